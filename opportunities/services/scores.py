"""Deal scores: the one way a score reaches a deal.

Intelligence computes scores (a learned model, or rules before one is
trained); this module stores them on the deals, with an audit entry and an
`opportunity.scored` event for every deal whose score or model changed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from opportunities.models import Opportunity
from salesapp.audit import audit_bulk
from salesapp.events import publish

SCORE_FIELDS = ("deal_score", "score_model", "score_factors")
BATCH = 2000  # ids per read


@transaction.atomic
def opportunity_scores_write(*, actor, scores: dict[int, dict]) -> int:
    """Store deal scores in batches.

    `scores` maps deal id -> {"score": 0-100, "model": the label of the model that made it ("LightGBM v3"),
    "factors": the reasons as {factor, points, detail}}. A deal whose score or model changed gets an audit
    entry and one opportunity.scored event; new reasons for the same score are stored quietly. Deals deleted
    while they were being scored are left out. Returns how many deals were scored anew.
    """
    errors = {
        f"scores.{pk}": ["A score is a whole number from 0 to 100 with the model that made it."]
        for pk, s in scores.items()
        if not (isinstance(s["score"], int) and 0 <= s["score"] <= 100 and s["model"] and isinstance(s["factors"], list))
    }
    if errors:
        raise ValidationError(errors)
    ids = list(scores)
    current = {}
    for i in range(0, len(ids), BATCH):
        rows = Opportunity.objects.filter(pk__in=ids[i : i + BATCH]).values_list("pk", "owner_id", "stage_id",
                                                                                *SCORE_FIELDS)
        for pk, owner_id, stage_id, *stored in rows:
            current[pk] = (owner_id, stage_id, tuple(stored))
    changed = [
        Opportunity(pk=pk, deal_score=s["score"], score_model=s["model"], score_factors=s["factors"])
        for pk, s in scores.items() if pk in current and current[pk][2] != (s["score"], s["model"], s["factors"])
    ]
    _write(changed)
    rescored = [opp for opp in changed if current[opp.pk][2][:2] != (opp.deal_score, opp.score_model)]
    audit_bulk(Opportunity, {
        opp.pk: {name: [str(old), str(new)] for name, old, new in zip(
            SCORE_FIELDS[:2], current[opp.pk][2][:2], (opp.deal_score, opp.score_model), strict=True) if old != new}
        for opp in rescored
    }, actor=actor)
    for opp in rescored:
        owner_id, stage_id, _stored = current[opp.pk]
        publish("opportunity.scored", {"opportunity_id": opp.pk, "score": opp.deal_score, "model": opp.score_model,
                                       "owner_id": owner_id, "stage": stage_id}, actor=actor)
    return len(rescored)


def _write(deals: list[Opportunity]) -> None:
    # One parameterised UPDATE run for every row (pipelined by psycopg 3): bulk_update's CASE per row and
    # field costs over a millisecond a deal, which a refresh of every open deal cannot afford.
    fields = [Opportunity._meta.get_field(name) for name in SCORE_FIELDS]
    table, quote = Opportunity._meta.db_table, connection.ops.quote_name
    sql = f"UPDATE {quote(table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE id = %s"
    rows = [[*(f.get_db_prep_save(getattr(opp, f.attname), connection) for f in fields), opp.pk] for opp in deals]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
