"""Analytics are cached and an event makes them fresh again."""

import pytest

from intelligence import analytics
from salesapp.events import publish
from tests.intelligence.factories import OpportunityFactory, days_ago

pytestmark = pytest.mark.django_db


def test_cached_report_is_invalidated_by_an_event(rep, django_capture_on_commit_callbacks):
    won = OpportunityFactory(owner=rep, stage_id="closed_won", actual_close_date=days_ago(3).date(), amount=1000)
    first = analytics.report(rep, "deal_size")
    assert first["rows"][0]["average_amount"] == 1000.0

    # A change without an event is not seen (the report is served from the cache) ...
    OpportunityFactory(owner=rep, stage_id="closed_won", actual_close_date=days_ago(2).date(), amount=3000)
    assert analytics.report(rep, "deal_size") == first
    # ... and an event makes every report fresh
    with django_capture_on_commit_callbacks(execute=True):
        publish("opportunity.won", {"opportunity_id": won.pk, "owner_id": rep.pk, "territory_id": None,
                                    "stage": "closed_won", "amount": "3000",
                                    "actual_close_date": won.actual_close_date.isoformat()})
    assert analytics.report(rep, "deal_size")["rows"][0]["average_amount"] == 2000.0
