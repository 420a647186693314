"""Routing: which territory a lead lies in, and which member of it gets the lead.

The territory comes from the territories app's matcher. The owner follows the
territory's policy: round-robin among members (the member after whoever got
the last one), the member with the fewest open leads, or always the
territory's owner. Members at their daily capacity (leads assigned to them
since midnight UTC) are skipped, and so are inactive users. A lead that
matches no territory, or whose territory has nobody available, goes to the
default queue (LeadRoutingConfig, set in the admin console).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from leads.models import Lead, LeadRoutingConfig, RoutingCursor
from leads.workflow import OPEN_STATUSES
from salesapp.locks import rows_lock
from territories.matching import territory_match
from territories.models import Territory
from territories.selectors import territory_members

Policy = Territory.RoutingPolicy


@dataclass
class RoutingDecision:
    """Where a lead goes and why, in words shown on the lead."""

    territory: object | None
    owner: object | None
    reason: str
    queue: str = ""
    explanation: list = field(default_factory=list)


def lead_record(lead: Lead) -> dict:
    """The attributes the territory matcher looks at."""
    return {
        "country": lead.country, "state": lead.state, "postal_code": lead.postal_code, "industry": lead.industry,
        "employee_count": lead.employee_count, "annual_revenue": lead.annual_revenue,
    }


def _match(lead: Lead):
    result = territory_match(lead_record(lead))
    return result.territory, result.explanation, result.reason


def _name(user) -> str:
    return user.get_full_name() or user.email


def _day_start(now):
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def assigned_today(user_ids: list[int], *, now=None, exclude_lead: int | None = None) -> dict[int, int]:
    """Leads assigned to each user since midnight, one query."""
    now = now or timezone.now()
    qs = Lead.objects.filter(assigned_to_id__in=user_ids, assigned_at__gte=_day_start(now))
    if exclude_lead:
        qs = qs.exclude(pk=exclude_lead)
    return dict(qs.values_list("assigned_to_id").annotate(n=Count("id")).values_list("assigned_to_id", "n"))


def open_counts(user_ids: list[int], *, exclude_lead: int | None = None) -> dict[int, int]:
    qs = Lead.objects.filter(assigned_to_id__in=user_ids, status__in=OPEN_STATUSES, merged_into__isnull=True)
    if exclude_lead:
        qs = qs.exclude(pk=exclude_lead)
    return dict(qs.values_list("assigned_to_id").annotate(n=Count("id")).values_list("assigned_to_id", "n"))


def default_queue(reason: str, explanation=None) -> RoutingDecision:
    config = LeadRoutingConfig.objects.select_related("default_owner").first()
    queue = config.queue_name if config else "Unassigned leads"
    owner = config.default_owner if config and config.default_owner and config.default_owner.is_active else None
    who = f", worked by {_name(owner)}" if owner else ""
    return RoutingDecision(None, owner, f"{reason}; default queue {queue}{who}", queue=queue, explanation=explanation or [])


def route(lead: Lead, *, now=None) -> RoutingDecision:
    """Decide territory and owner for `lead` (locks the round-robin cursor: call inside a transaction)."""
    now = now or timezone.now()
    territory, explanation, reason = _match(lead)
    if territory is None:
        return default_queue(reason or "no territory matches", explanation)
    policy = territory.routing_policy
    members = territory_members(territory)
    by_user = {m.user_id: m for m in members}
    ids = [m.user_id for m in members]
    if policy == Policy.FIXED_OWNER and territory.owner_id and territory.owner_id not in by_user:
        ids.append(territory.owner_id)
    today = assigned_today(ids, now=now, exclude_lead=lead.pk)
    skipped = []

    def available(user) -> bool:
        if not user.is_active:
            skipped.append(f"{_name(user)} (inactive)")
            return False
        member = by_user.get(user.pk)
        cap = member.daily_capacity if member else None
        if cap is not None and today.get(user.pk, 0) >= cap:
            skipped.append(f"{_name(user)} (daily capacity {cap} reached)")
            return False
        return True

    owner, how = None, ""
    if policy == Policy.FIXED_OWNER:
        if territory.owner is None:
            how = "fixed owner: the territory has no owner"
        elif available(territory.owner):
            owner, how = territory.owner, f"fixed owner {_name(territory.owner)}"
        else:
            how = f"fixed owner {_name(territory.owner)} unavailable"
    elif policy == Policy.LEAST_OPEN:
        counts = open_counts(ids, exclude_lead=lead.pk)
        candidates = [m for m in members if available(m.user)]
        if candidates:
            best = min(candidates, key=lambda m: counts.get(m.user_id, 0))  # min is stable: membership order
            owner = best.user
            how = f"least open leads: {_name(owner)} had {counts.get(owner.pk, 0)} open"
        else:
            how = "least open leads: no member available"
    else:
        cursor, _ = rows_lock(RoutingCursor.objects.all()).get_or_create(territory_id=territory.pk)
        start = 0
        previous = None
        if cursor.last_user_id in by_user:
            start = ids.index(cursor.last_user_id) + 1
            previous = by_user[cursor.last_user_id].user
        for offset in range(len(members)):
            member = members[(start + offset) % len(members)]
            if available(member.user):
                owner = member.user
                break
        if owner is not None:
            cursor.last_user = owner
            cursor.save(update_fields=["last_user", "updated_at"])
            how = f"round-robin, next after {_name(previous)}" if previous else "round-robin, first in turn"
        else:
            how = "round-robin: no member available"
    if skipped:
        how += "; skipped " + ", ".join(dict.fromkeys(skipped))
    if owner is None:
        decision = default_queue(f"{reason}; {how}", explanation)
        decision.territory = territory
        return decision
    return RoutingDecision(territory, owner, f"{reason}; {how}", explanation=explanation)


def capacity_left(user_ids: list[int], capacities: dict[int, int | None], *, now=None) -> dict[int, int | None]:
    """How many more leads each user may take today (None: unlimited)."""
    today = assigned_today(user_ids, now=now)
    return {u: (None if capacities.get(u) is None else max(0, capacities[u] - today.get(u, 0))) for u in user_ids}


def open_q() -> Q:
    return Q(status__in=OPEN_STATUSES, merged_into__isnull=True)


def match_territory(lead: Lead) -> tuple[object | None, str]:
    """The territory the matcher files `lead` under and why, for leads whose owner is not routed."""
    territory, _, reason = _match(lead)
    return territory, reason
