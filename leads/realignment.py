"""Open leads as candidates for territory realignment (the territories app asks, then applies moves)."""

from django.db import transaction

from leads.models import Lead, LeadHistory
from leads.routing import open_q
from salesapp.audit import audit_bulk
from salesapp.events import publish

ATTRS = ("country", "state", "postal_code", "industry", "employee_count", "annual_revenue")


class LeadRealignment:
    """Provider for territories.realignment: open leads and how to move them."""

    label = "Leads"

    def iter_candidates(self, batch_size: int = 2000):
        """Lists of (pk, attrs, current_territory_id) for open leads, in id order."""
        last = 0
        while True:
            rows = list(
                Lead.objects.filter(open_q(), pk__gt=last).order_by("pk")
                .values_list("pk", *ATTRS, "territory_id")[:batch_size]
            )
            if not rows:
                return
            yield [(r[0], dict(zip(ATTRS, r[1:-1], strict=True)), r[-1]) for r in rows]
            last = rows[-1][0]

    @transaction.atomic
    def apply_moves(self, moves, actor=None) -> int:
        """Set each lead's territory: `moves` is an iterable of (pk, from_territory_id, to_territory_id)."""
        moved = 0
        changes = {}
        for pk, from_id, to_id in moves:
            Lead.objects.filter(pk=pk).update(territory_id=to_id)
            LeadHistory.objects.create(lead_id=pk, kind=LeadHistory.Kind.ASSIGNED, from_value=f"territory {from_id}",
                                       to_value=f"territory {to_id}", detail="territory realignment",
                                       actor=actor if getattr(actor, "pk", None) else None)
            publish("territory.assignment_changed", {"record_type": "lead", "record_id": pk,
                                                     "from_territory_id": from_id, "to_territory_id": to_id},
                    actor=actor)
            changes[pk] = {"territory": [str(from_id), str(to_id)]}
            moved += 1
        audit_bulk(Lead, changes, actor=actor)
        return moved
