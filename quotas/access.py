"""The quota's part of the access rule: a draft quota is seen only by those who set quotas."""

from django.db.models import Q

from quotas.models import Quota
from salesapp.guards import has_permission


def published_unless_setter(user, action: str) -> Q:
    """Drafts are plans in the making: only people who may set quotas see them; everyone else sees published ones."""
    return Q() if has_permission(user, "quota:set") else Q(status=Quota.Status.PUBLISHED)
