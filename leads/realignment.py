"""Open leads as candidates for territory realignment (the territories app asks, then applies moves)."""

from django.db import transaction
from django.db.models import Count

from leads.models import Lead, LeadHistory
from leads.routing import open_q
from salesapp.access import VIEW
from salesapp.audit import audit_bulk
from salesapp.events import publish

ATTRS = ("country", "state", "postal_code", "industry", "employee_count", "annual_revenue")


class LeadRealignment:
    """Provider for territories.realignment: open leads and how to move them.

    The territories app publishes `territory.assignment_changed` for each move;
    here the lead's territory changes, with a history line, an audit entry and lead.updated.
    Owners stay: a realignment moves records between territories, it does not re-route them.
    """

    label = "leads"

    def iter_candidates(self, batch_size: int = 2000):
        """Lists of (pk, attrs, current_territory_id) for open leads, in id order."""
        last = 0
        while True:
            rows = list(
                Lead.objects.filter(open_q(), pk__gt=last).order_by("pk")
                .values_list("pk", *ATTRS, "territory_id", "email")[:batch_size]
            )
            if not rows:
                return
            yield [(r[0], {**dict(zip(ATTRS, r[1:-2], strict=True)), "label": r[-1]}, r[-2]) for r in rows]
            last = rows[-1][0]

    def territory_counts(self, territory_ids: list[int], *, user) -> dict[int, int]:
        """How many leads `user` may see lie in each of these territories (the territory pages' counts)."""
        return dict(Lead.objects.restrict(user, VIEW).filter(territory_id__in=territory_ids).order_by()
                    .values_list("territory_id").annotate(n=Count("pk")))

    @transaction.atomic
    def apply_moves(self, moves, actor=None) -> int:
        """Set each lead's territory: `moves` is a batch of (pk, to_territory_id)."""
        moves = [(int(pk), to_id) for pk, to_id in moves]
        current = dict(Lead.objects.filter(pk__in=[pk for pk, _ in moves]).values_list("pk", "territory_id"))
        changes, history = {}, []
        by_target: dict = {}
        for pk, to_id in moves:
            if pk not in current or current[pk] == to_id:
                continue
            by_target.setdefault(to_id, []).append(pk)
            changes[pk] = {"territory": [str(current[pk]), str(to_id)]}
            history.append(LeadHistory(lead_id=pk, kind=LeadHistory.Kind.ASSIGNED, from_value=f"territory {current[pk]}",
                                       to_value=f"territory {to_id}", detail="territory realignment",
                                       actor=actor))
        for to_id, pks in by_target.items():
            Lead.objects.filter(pk__in=pks).update(territory_id=to_id)
        LeadHistory.objects.bulk_create(history, batch_size=500)
        audit_bulk(Lead, changes, actor=actor)
        for to_id, pks in by_target.items():
            for pk in pks:
                publish("lead.updated", {"lead_id": pk, "fields": ["territory"], "territory_id": to_id}, actor=actor)
        return len(changes)
