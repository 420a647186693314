"""What attainment is measured on, read from the apps below through their selectors.

Won deals come from `opportunities.figures.won_opportunities`, completed
activities from `activities.selectors.completed_activity_count`, territory
subtrees and children from `territories.selectors`. These reads carry no user:
attainment is a fact about the quota holder, and who may see a quota is decided
on the quota itself.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from activities.selectors import completed_activity_count
from opportunities.figures import won_opportunities, won_opportunity_rows
from opportunities.selectors import stage_list
from territories.selectors import territory_subtree_ids


def won_totals(start: date, end: date, *, by: str, owner_ids=None, territory_ids=None) -> dict[int, tuple]:
    """Deals closed won with a close date in [start, end], per owner or territory: id -> (amount, count)."""
    grouped = won_opportunities(start, end, owner_ids=owner_ids, territory_ids=territory_ids, group_by=by)
    return {k: (Decimal(v["amount"] or 0), int(v["count"])) for k, v in grouped.items() if k is not None}


def won_rows(start: date, end: date, *, owner_ids=None) -> list[dict]:
    """The won deals themselves (id, owner_id, territory_id, amount, actual_close_date)."""
    return won_opportunity_rows(start, end, owner_ids=owner_ids)


def is_won_stage(stage_key: str) -> bool:
    """Whether a deal in this stage counts as won (the stage says so, not its name)."""
    return stage_list().filter(key=stage_key, is_won=True).exists()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def completed_activities(user_ids: list[int], start: date, end: date) -> int:
    """How many activities these users completed on the days [start, end]."""
    if not user_ids:
        return 0
    # the activity store counts completions in [start, end): end is the next day's midnight
    return completed_activity_count(user_ids=list(user_ids), start=_day_start(start),
                                    end=_day_start(end + timedelta(days=1)))


def territory_subtree(territory_id: int) -> list[int]:
    """The territory and every territory below it."""
    return territory_subtree_ids(territory_id)
