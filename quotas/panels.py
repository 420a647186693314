"""The home-page panel: my attainment this quarter."""

from quotas import selectors
from salesapp.guards import has_permission
from salesapp.periods import current_quarter


def my_attainment_panel(request):
    user = request.user
    if not has_permission(user, "quota:read"):
        return None
    period = current_quarter()
    data = selectors.quota_attainment(user=user, user_id=user.pk, period=period.key)
    if not data["quotas"]:
        return None
    return {"title": f"My quotas · {period.label}", "template": "quotas/_panel.html",
            "context": {"quotas": data["quotas"], "period": period}, "order": 30}
