"""Deal scores: the one way a score reaches a deal.

Intelligence computes scores (a learned model, or rules before one is
trained); this module stores them on the deals, with an audit entry and an
`opportunity.scored` event for every deal whose score or model changed.
"""

from __future__ import annotations

from django.db import transaction

from opportunities.models import Opportunity
from salesapp.audit import audit_bulk
from salesapp.bulk import rows_update, scores_check
from salesapp.events import publish_many

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
    scores_check(scores)
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
    rows_update(Opportunity, changed, SCORE_FIELDS)
    rescored = [opp for opp in changed if current[opp.pk][2][:2] != (opp.deal_score, opp.score_model)]
    audit_bulk(Opportunity, {
        opp.pk: {name: [str(old), str(new)] for name, old, new in zip(
            SCORE_FIELDS[:2], current[opp.pk][2][:2], (opp.deal_score, opp.score_model), strict=True) if old != new}
        for opp in rescored
    }, actor=actor)
    publish_many("opportunity.scored", [
        {"opportunity_id": opp.pk, "score": opp.deal_score, "model": opp.score_model,
         "owner_id": current[opp.pk][0], "stage": current[opp.pk][1]}
        for opp in rescored], actor=actor)
    return len(rescored)
