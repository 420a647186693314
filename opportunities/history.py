"""What opportunities offers the apps below it: timeline history and realignment providers.

Those apps import no higher app; `integrations.py` registers these in `ready()`.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F

from opportunities.models import Account, Opportunity, StageHistory
from salesapp.access import VIEW
from salesapp.audit import audit_bulk
from salesapp.events import publish

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
    event_fields: tuple[str, ...] = ()

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

    def event(self, row: dict) -> tuple[str, dict]:
        """The `*.updated` event of one moved record, from its row after the move."""
        raise NotImplementedError

    def territory_counts(self, territory_ids: list[int], *, user) -> dict[int, int]:
        """How many of these records `user` may see lie in each territory (the territory pages' counts)."""
        return dict(self.queryset().restrict(user, VIEW).filter(territory_id__in=territory_ids).order_by()
                    .values_list("territory_id").annotate(n=Count("pk")))

    @transaction.atomic
    def apply_moves(self, moves, actor=None) -> int:
        """Set each record's territory: (pk, to_territory_id) or (pk, from_id, to_id) pairs, one transaction.

        Each record that moved gets an audit entry and its `account.updated` / `opportunity.updated`
        event naming `territory`.
        """
        targets = {move[0]: move[-1] for move in moves}
        rows = {r["pk"]: r for r in self.model.objects.filter(pk__in=list(targets)).values(*self.event_fields)}
        changes = {}
        for pk, to_id in targets.items():
            row = rows.get(pk)
            if row is None or row["territory_id"] == to_id:
                continue  # deleted since the plan was made, or already there
            self.model.objects.filter(pk=pk).update(territory_id=to_id)
            changes[pk] = {"territory": [str(row["territory_id"]), str(to_id)]}
            name, payload = self.event({**row, "territory_id": to_id})
            publish(name, payload, actor=actor)
        audit_bulk(self.model, changes, actor=actor)
        return len(changes)


class AccountRealignment(_Realignment):
    label = "Accounts"
    model = Account
    record_type = "account"
    event_fields = ("pk", "owner_id", "territory_id")

    def event(self, row):
        return "account.updated", {"account_id": row["pk"], "owner_id": row["owner_id"],
                                   "territory_id": row["territory_id"], "fields": ["territory"]}

    def queryset(self):
        return Account.objects.annotate(_label=F("name"))


class OpportunityRealignment(_Realignment):
    """Open deals only: a closed deal keeps the territory it was won or lost in."""

    label = "Open opportunities"
    model = Opportunity
    record_type = "opportunity"
    event_fields = ("pk", "owner_id", "territory_id", "account_id", "stage_id", "amount")

    def event(self, row):
        return "opportunity.updated", {
            "opportunity_id": row["pk"], "owner_id": row["owner_id"], "account_id": row["account_id"],
            "territory_id": row["territory_id"], "stage": row["stage_id"],
            "amount": f"{row['amount']:.2f}" if row["amount"] is not None else None, "fields": ["territory"],
        }

    def queryset(self):
        return Opportunity.objects.filter(stage__is_closed=False).annotate(_label=F("name"))

    def attrs_fields(self):
        return tuple(f"account__{f}" for f in ACCOUNT_ATTRS)
