"""System reads of deal figures for the apps above (quota attainment, intelligence's training and scoring).

No user, no access rule: callers decide who may read what they derive (attainment is a fact about
the quota holder; a score is a fact about the deal); pages and APIs read deals through
`opportunities.selectors` instead.
"""

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, DecimalField, QuerySet, Sum
from django.db.models.functions import Coalesce

from opportunities.models import Opportunity, StageHistory
from opportunities.selectors import ZERO


def won_opportunities(start, end, owner_ids=None, territory_ids=None, group_by: str | None = None):
    """Deals closed won with `actual_close_date` in [start, end], as plain aggregates (a system read).

    Without `group_by`: {"count": n, "amount": Decimal}. With `group_by="owner"` or
    `"territory"`: {owner_id or territory_id: {"count", "amount"}}. For quota attainment;
    callers decide who may read the figures.
    """
    qs = _won_between(start, end, owner_ids, territory_ids)
    aggregates = {"count": Count("id"), "amount": Coalesce(Sum("amount"), ZERO, output_field=DecimalField())}
    if group_by is None:
        return qs.aggregate(**aggregates)
    key = {"owner": "owner_id", "territory": "territory_id"}[group_by]
    return {row[key]: {"count": row["count"], "amount": row["amount"]}
            for row in qs.order_by().values(key).annotate(**aggregates)}


def won_opportunity_rows(start, end, owner_ids=None, territory_ids=None) -> list[dict]:
    """The won deals behind `won_opportunities`, as plain rows (id, owner, territory, amount, date); a system read."""
    qs = _won_between(start, end, owner_ids, territory_ids)
    return list(qs.order_by("actual_close_date", "id").values("id", "owner_id", "territory_id", "amount",
                                                              "actual_close_date"))


def _won_between(start, end, owner_ids, territory_ids) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.filter(stage__is_won=True, actual_close_date__gte=start, actual_close_date__lte=end)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    if territory_ids is not None:
        qs = qs.filter(territory_id__in=list(territory_ids))
    return qs


def deal_rows(*, fields: tuple[str, ...], ids=None, stages=None) -> list[dict]:
    """The deals' `fields` (account fields through `account__`) and `contacts_count` as plain rows, by id.

    ids=None: every deal. A system read for intelligence's training and scoring: the caller scopes ids.
    """
    qs = Opportunity.objects.all()
    if stages is not None:
        qs = qs.filter(stage_id__in=list(stages))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return list(qs.annotate(contacts_count=Count("contacts")).values(*fields, "contacts_count").order_by("id"))


def stage_changes(*, ids=None) -> Iterator[tuple[int, datetime, str, str]]:
    """The deals' stage changes, oldest first: (opportunity_id, changed_at, from_stage, to_stage).

    By deal id (ids=None: every deal). A system read for intelligence's training and scoring: the caller scopes ids.
    """
    qs = StageHistory.objects.order_by("changed_at", "id")
    if ids is not None:
        qs = qs.filter(opportunity_id__in=list(ids))
    return qs.values_list("opportunity_id", "changed_at", "from_stage", "to_stage").iterator(chunk_size=5000)


def deal_scores(*, ids) -> dict[int, int | None]:
    """The stored score of each deal (what every page shows).

    A system read for intelligence's training and scoring: the caller scopes ids.
    """
    return dict(Opportunity.objects.filter(pk__in=list(ids)).values_list("pk", "deal_score"))


def deal_contacts(*, ids) -> list[tuple[int, int, str, str]]:
    """The contacts on the deals: (opportunity_id, contact_id, title, buying_role).

    A system read for intelligence's training and scoring: the caller scopes ids.
    """
    through = Opportunity.contacts.through
    return list(through.objects.filter(opportunity_id__in=list(ids))
                .values_list("opportunity_id", "contact_id", "contact__title", "contact__buying_role"))
