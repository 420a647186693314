"""Demo quotas: the demo team's targets for the previous and the current quarter."""

from decimal import Decimal

from quotas import services
from quotas.models import Quota
from quotas.periods import current_quarter
from salesapp.demo import register_loader


def load(users: dict) -> None:
    """The manager's revenue, deal and activity targets, allocated to the three reps."""
    admin, manager = users["admin"], users["manager"]
    current = current_quarter()
    previous = current.previous()
    published = Quota.Status.PUBLISHED
    for period, method in ((previous, services.EVEN), (current, services.HISTORY)):
        revenue, _ = services.quota_set(actor=admin, user=manager, period=period.key, quota_type=Quota.Type.REVENUE,
                                        quota_amount=Decimal("450000"), status=published)
        services.quota_allocate(actor=admin, quota=revenue, method=method)
        deals, _ = services.quota_set(actor=admin, user=manager, period=period.key, quota_type=Quota.Type.DEALS,
                                      quota_amount=Decimal("24"), status=published)
        services.quota_allocate(actor=admin, quota=deals, method=services.EVEN)
        activities, _ = services.quota_set(actor=admin, user=manager, period=period.key,
                                           quota_type=Quota.Type.ACTIVITIES, quota_amount=Decimal("180"),
                                           status=published)
        services.quota_allocate(actor=admin, quota=activities, method=services.EVEN)
    _territory_quota(admin, current.key)


def _territory_quota(admin, period: str) -> None:
    from territories.models import Territory

    root = Territory.objects.filter(parent__isnull=True, is_active=True).order_by("pk").first()
    if root is None:
        return
    quota, _ = services.quota_set(actor=admin, territory=root, period=period, quota_type=Quota.Type.REVENUE,
                                  quota_amount=Decimal("900000"), status=Quota.Status.PUBLISHED)
    if services.allocation_children(quota):
        services.quota_allocate(actor=admin, quota=quota, method=services.EVEN)


def register() -> None:
    register_loader(50, "quotas", load)
