"""The home-page panel: my attainment this quarter."""

from quotas import selectors
from salesapp.periods import current_quarter
from salesapp.roles import perm


def my_attainment_panel(request):
    user = request.user
    if not user.has_perm(perm("quota:read")):
        return None
    period = current_quarter()
    data = selectors.quota_attainment(viewer=user, user_id=user.pk, period=period.key)
    if not data["quotas"]:
        return None
    return {"title": f"My quotas · {period.label}", "template": "quotas/_panel.html",
            "context": {"quotas": data["quotas"], "period": period}, "order": 30}
