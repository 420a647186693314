"""The home-page panel: the user's newest open leads, hottest first."""

from leads.workflow import OPEN_STATUSES
from salesapp.roles import perm


def my_leads_panel(request):
    user = request.user
    if not user.is_authenticated or not user.has_perm(perm("lead:read")):
        return None
    from leads.models import Lead

    mine = Lead.objects.filter(assigned_to=user, status__in=OPEN_STATUSES, merged_into__isnull=True)
    top = list(mine.order_by("-score", "-id").only("id", "first_name", "last_name", "email", "company", "score",
                                                   "status")[:5])
    return {
        "title": "My open leads",
        "template": "leads/_home_panel.html",
        "context": {"leads": top, "new_count": mine.filter(status="new").count()},
        "order": 20,
    }
