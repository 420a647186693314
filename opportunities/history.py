"""What opportunities offers the apps below it: timeline history and realignment providers.

Those apps import no higher app; `integrations.py` registers these in `ready()`.
"""

from __future__ import annotations

from django.db import transaction

from opportunities.models import Account, Opportunity, StageHistory
from salesapp.audit import audit_bulk

ACCOUNT_ATTRS = ("billing_country", "billing_state", "billing_postal_code", "industry", "employee_count",
                 "annual_revenue")
MATCH_KEYS = ("country", "state", "postal_code", "industry", "employee_count", "annual_revenue")


def _stage_label(key: str) -> str:
    return key.replace("_", " ")


def stage_history_provider(entry_class):
    """A timeline provider `fn(ids, before, limit)` giving the deals' stage changes as `entry_class` rows."""

    def provider(ids, before=None, limit=50):
        qs = StageHistory.objects.filter(opportunity_id__in=list(ids)).select_related("changed_by", "opportunity")
        if before is not None:
            qs = qs.filter(changed_at__lte=before)
        entries = []
        for h in qs.order_by("-changed_at", "-id")[:limit]:
            if h.note == "created" and not h.from_stage:
                title = f"Opportunity created in {_stage_label(h.to_stage)}"
            elif h.note == "reopened":
                title = f"Reopened: {_stage_label(h.from_stage)} → {_stage_label(h.to_stage)}"
            else:
                title = f"Stage {_stage_label(h.from_stage)} → {_stage_label(h.to_stage)}"
            detail = h.opportunity.name
            if h.days_in_previous_stage is not None:
                detail += f" · {h.days_in_previous_stage} days in {_stage_label(h.from_stage)}"
            entries.append(entry_class(
                time=h.changed_at, kind="stage_changed", title=title, detail=detail,
                actor=str(h.changed_by) if h.changed_by else "", actor_id=h.changed_by_id,
                refs={"opportunity_id": h.opportunity_id}, type="history", key=f"stagehistory:{h.pk:012d}",
            ))
        return entries

    return provider


class _Realignment:
    """Offers records to the territory realignment: their matching attributes and current territory."""

    label = ""
    model = Account
    record_type = ""

    def queryset(self):
        raise NotImplementedError

    def attrs_fields(self):
        return ACCOUNT_ATTRS

    def iter_candidates(self, batch_size: int = 2000):
        """Lists of (pk, attrs, current_territory_id), in id order."""
        last = 0
        fields = self.attrs_fields()
        while True:
            rows = list(self.queryset().filter(pk__gt=last).order_by("pk")
                        .values_list("pk", "territory_id", "_label", *fields)[:batch_size])
            if not rows:
                return
            yield [(r[0], {**dict(zip(MATCH_KEYS, r[3:], strict=True)), "label": r[2]}, r[1]) for r in rows]
            last = rows[-1][0]

    @transaction.atomic
    def apply_moves(self, moves, actor=None) -> int:
        """Set each record's territory: (pk, to_territory_id) or (pk, from_id, to_id) pairs, one transaction."""
        changes = {}
        for move in moves:
            pk, to_id = move[0], move[-1]
            old = self.model.objects.filter(pk=pk).values_list("territory_id", flat=True).first()
            self.model.objects.filter(pk=pk).update(territory_id=to_id)
            changes[pk] = {"territory": [str(old), str(to_id)]}
        audit_bulk(self.model, changes, actor=actor)
        if changes:
            from opportunities.selectors import pipeline_invalidate

            transaction.on_commit(pipeline_invalidate)
        return len(changes)


class AccountRealignment(_Realignment):
    label = "Accounts"
    model = Account
    record_type = "account"

    def queryset(self):
        from django.db.models import F

        return Account.objects.annotate(_label=F("name"))


class OpportunityRealignment(_Realignment):
    """Open deals only: a closed deal keeps the territory it was won or lost in."""

    label = "Open opportunities"
    model = Opportunity
    record_type = "opportunity"

    def queryset(self):
        from django.db.models import F

        return Opportunity.objects.filter(stage__is_closed=False).annotate(_label=F("name"))

    def attrs_fields(self):
        return tuple(f"account__{f}" for f in ACCOUNT_ATTRS)
