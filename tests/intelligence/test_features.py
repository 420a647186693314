"""Feature builders see nothing from after the snapshot time."""

from datetime import timedelta

import pytest

from intelligence.datasets import deal_training_set, snapshot_fraction
from intelligence.features import History, deal_vector, stage_as_of
from intelligence.sources import pipeline, ts
from tests.intelligence.factories import OpportunityFactory, days_ago, log_activity, move, push_close_date

pytestmark = pytest.mark.django_db


def _closed_deal(owner):
    created, closed = days_ago(100), days_ago(10)
    opp = OpportunityFactory(owner=owner, stage_id="closed_won", created_at=created, stage_changed_at=closed,
                             actual_close_date=closed.date())
    return opp, created, closed


def test_planted_future_activity_is_ignored_by_the_training_features(admin_user, rep):
    # Given a won deal, one call early in its life and one planted after the snapshot time
    opp, created, closed = _closed_deal(rep)
    snapshot = created + (closed - created) * snapshot_fraction(opp.pk)
    log_activity(admin_user, when=created + timedelta(days=1), type="call", opportunity=opp)
    log_activity(admin_user, when=snapshot + timedelta(hours=1), type="meeting", opportunity=opp)
    # and a close-date push and a stage move that also happen after the snapshot
    push_close_date(opp, days_ago(40).date(), days_ago(5).date(), snapshot + timedelta(hours=2))
    move(opp, "", "discovery", created)
    move(opp, "discovery", "negotiation", snapshot + timedelta(hours=3))
    move(opp, "negotiation", "closed_won", closed)

    # When the training set is built
    ds = deal_training_set()

    # Then the deal is learned from as it looked at the snapshot: one call, no meeting, no push, still in discovery
    v = ds.vectors[ds.ids.index(opp.pk)]
    assert ds.snapshot_at[ds.ids.index(opp.pk)] == pytest.approx(snapshot.timestamp(), abs=1)
    assert v["activities_total"] == 1
    assert v["calls"] == 1 and v["meetings"] == 0
    assert v["close_date_pushes"] == 0
    assert v["stage"] == "discovery"
    assert v["days_since_activity"] == pytest.approx((snapshot - created - timedelta(days=1)).days, abs=1)


def test_the_same_activity_counts_once_the_snapshot_is_after_it(rep):
    # Given plain history with an activity at day 10 of a deal's life
    row = {"id": 1, "created_at": days_ago(30), "stage_id": "proposal", "amount": 1000, "expected_close_date": None,
           "owner_id": rep.pk, "source": "web", "next_step": ""}
    h = History(pipeline=pipeline(), activities={1: [(ts(days_ago(20)), "call", "", None)]})
    before = deal_vector(row, ts(days_ago(25)), h, 1000)
    after = deal_vector(row, ts(days_ago(15)), h, 1000)
    # Then a snapshot before it does not see it and one after does
    assert before["activities_total"] == 0
    assert after["activities_total"] == 1


def test_stage_is_rebuilt_from_history():
    stages = pipeline()
    hist = [(100.0, "", "discovery"), (200.0, "discovery", "proposal"), (300.0, "proposal", "closed_lost")]
    assert stage_as_of("closed_lost", hist, 100.0, 150.0, stages) == ("discovery", 100.0)
    assert stage_as_of("closed_lost", hist, 100.0, 250.0, stages) == ("proposal", 200.0)
    assert stage_as_of("closed_lost", hist, 100.0, 50.0, stages)[0] == "discovery"
    # a closed deal with no recorded moves was, before it closed, in the first open stage Stage defines
    assert stage_as_of("closed_won", [], 100.0, 150.0, stages)[0] == stages.first_open == "discovery"


def test_bulk_scoring_builds_the_same_features_as_one_by_one(admin_user, rep, django_capture_on_commit_callbacks):
    from intelligence.datasets import scoring_set

    # Given a few open deals with different activity histories (logged through the activities service)
    deals = [OpportunityFactory(owner=rep, created_at=days_ago(90)) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for i, deal in enumerate(deals):
            for k in range(i * 2):
                log_activity(admin_user, when=days_ago(3 + 10 * k), type=("call", "email", "meeting")[k % 3],
                             opportunity=deal)
    now = ts(days_ago(0))
    # When all open deals are scored at once (grouped counts) and each one alone (its activities)
    bulk = scoring_set("deal", now=now)
    for deal in deals:
        one = scoring_set("deal", [deal.pk], now=now)
        # Then both see the same deal
        assert bulk.vectors[bulk.ids.index(deal.pk)] == pytest.approx(one.vectors[0], nan_ok=True)
