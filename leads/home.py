"""The home-page panel: the user's newest open leads, hottest first."""

from leads.selectors import lead_list
from leads.workflow import OPEN_STATUSES
from salesapp.guards import has_permission


def my_leads_panel(request):
    user = request.user
    if not has_permission(user, "lead:read"):
        return None
    mine = lead_list(user=user).filter(assigned_to=user, status__in=OPEN_STATUSES)
    top = list(mine.order_by("-score", "-id").only("id", "first_name", "last_name", "email", "company", "score",
                                                   "status")[:5])
    return {
        "title": "My open leads",
        "template": "leads/_home_panel.html",
        "context": {"leads": top, "new_count": mine.filter(status="new").count()},
        "order": 20,
    }
