"""What attainment is measured on, read from the apps below through their selectors.

Won deals come from `opportunities.selectors.won_opportunities`, completed
activities from `activities.selectors.completed_activity_count`, territory
subtrees from `territories.selectors.territory_subtree_ids`. These reads carry
no viewer: attainment is a fact about the quota holder, and who may see a
quota is decided on the quota itself.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone


def won_totals(start: date, end: date, *, by: str, owner_ids=None, territory_ids=None) -> dict[int, tuple]:
    """Deals closed won with a close date in [start, end], per owner or territory: id -> (amount, count)."""
    from opportunities.selectors import won_opportunities

    grouped = won_opportunities(start, end, owner_ids=owner_ids, territory_ids=territory_ids, group_by=by)
    return {k: (Decimal(v["amount"] or 0), int(v["count"])) for k, v in grouped.items() if k is not None}


def won_rows(start: date, end: date, *, owner_ids=None) -> list[dict]:
    """The won deals themselves (id, owner_id, territory_id, amount, actual_close_date)."""
    from opportunities.selectors import won_opportunity_rows

    return won_opportunity_rows(start, end, owner_ids=owner_ids)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def completed_activities(user_ids: list[int], start: date, end: date) -> int:
    """How many activities these users completed on the days [start, end]."""
    if not user_ids:
        return 0
    from activities.selectors import completed_activity_count

    # the activity store counts completions in [start, end): end is the next day's midnight
    return int(completed_activity_count(list(user_ids), _day_start(start), _day_start(end + timedelta(days=1))) or 0)


def territory_subtree(territory_id: int) -> list[int]:
    """The territory and every territory below it."""
    from territories.selectors import territory_subtree_ids

    ids = [int(i) for i in territory_subtree_ids(territory_id)]
    return ids if int(territory_id) in ids else [int(territory_id), *ids]


def territory_children(territory_id: int) -> list:
    """The direct child territories (for allocation and roll-ups)."""
    try:
        from territories.selectors import territory_children as children
    except ImportError:
        children = None
    if children is not None:
        return list(children(territory_id))
    from territories.models import Territory

    return list(Territory.objects.filter(parent_id=territory_id, is_active=True).order_by("name"))
