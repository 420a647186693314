"""Template context: the navigation the user's role may use."""

from django.conf import settings
from django.urls import reverse

from salesapp.guards import has_permission

# (label, url name, permission needed, icon). Every app is always installed: a name that does not
# reverse is a broken build and fails loudly.
NAVIGATION = [
    ("Leads", "leads:list", "lead:read", "person-lines-fill"),
    ("Accounts", "opportunities:account-list", "opportunity:read", "building"),
    ("Contacts", "opportunities:contact-list", "opportunity:read", "person-vcard"),
    ("Opportunities", "opportunities:list", "opportunity:read", "briefcase"),
    ("Pipeline", "opportunities:board", "opportunity:read", "kanban"),
    ("Forecast", "opportunities:forecast", "opportunity:read", "graph-up-arrow"),
    ("Territories", "territories:tree", "territory:read", "globe2"),
    ("Quotas", "quotas:dashboard", "quota:read", "bullseye"),
    ("My tasks", "activities:my-tasks", "activity:read", "check2-square"),
    ("Analytics", "intelligence:analytics", "analytics:read", "bar-chart"),
]


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        for label, name, needed, icon in NAVIGATION:
            if has_permission(user, needed):
                items.append({"label": label, "url": reverse(name), "icon": icon})
    return {"nav_items": items, "oidc_enabled": settings.OIDC_ENABLED}
