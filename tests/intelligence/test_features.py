"""Feature builders see nothing from after the time they are asked about, and examples sit at fixed ages."""

from datetime import timedelta

import pytest

from intelligence.datasets import deal_training_set, scoring_set
from intelligence.features import AGE_CAP, DEAL_AGES, History, deal_vector, stage_as_of
from intelligence.sources import pipeline, ts
from tests.intelligence.factories import OpportunityFactory, days_ago, log_activity, move, push_close_date

pytestmark = pytest.mark.django_db


def _closed_deal(owner):
    created, closed = days_ago(100), days_ago(15)
    opp = OpportunityFactory(owner=owner, stage_id="closed_won", created_at=created, stage_changed_at=closed,
                             actual_close_date=closed.date())
    return opp, created, closed


def test_a_closed_deal_is_learned_from_at_fixed_ages_and_sees_nothing_later(admin_user, rep):
    # Given a won deal open for 90 days: a call on day 1, a meeting on day 20, a push and a stage move on day 20
    opp, created, closed = _closed_deal(rep)
    log_activity(admin_user, when=created + timedelta(days=1), type="call", opportunity=opp)
    log_activity(admin_user, when=created + timedelta(days=20), type="meeting", opportunity=opp)
    push_close_date(opp, days_ago(40).date(), days_ago(5).date(), created + timedelta(days=20))
    move(opp, "", "discovery", created)
    move(opp, "discovery", "negotiation", created + timedelta(days=20))
    move(opp, "negotiation", "closed_won", closed)

    # When the training set is built
    ds = deal_training_set()

    # Then the deal gives one example per fixed age it was open, whatever its outcome or when it came
    ages = [int(a) for i, a in zip(ds.ids, ds.ages, strict=True) if i == opp.pk]
    assert ages == [a for a in DEAL_AGES if a < 85]
    assert all(abs(k - closed.timestamp()) < 1 for i, k in zip(ds.ids, ds.known_at, strict=True) if i == opp.pk)
    at = {int(a): v for i, a, v in zip(ds.ids, ds.ages, ds.vectors, strict=True) if i == opp.pk}
    # at 14 days: one call, no meeting, no push, still in discovery
    assert at[14]["first_14d_activities"] == 1 and at[14]["calls_first_14d"] == 1
    assert at[14]["meetings_first_14d"] == 0 and at[14]["close_date_pushes"] == 0 and at[14]["stage"] == "discovery"
    assert at[14]["days_since_activity"] == pytest.approx(13, abs=0.1)
    # at 30 days the meeting, the push and the move are there
    assert at[30]["first_30d_activities"] == 2 and at[30]["close_date_pushes"] == 1
    assert at[30]["stage"] == "negotiation"


def test_the_same_activity_counts_once_the_time_is_after_it(rep):
    # Given plain history with an activity at day 10 of a deal's life
    row = {"id": 1, "created_at": days_ago(30), "stage_id": "proposal", "amount": 1000, "expected_close_date": None,
           "owner_id": rep.pk, "source": "web", "next_step": ""}
    h = History(pipeline=pipeline(), activities={1: [(ts(days_ago(20)), "call", "", None)]})
    before = deal_vector(row, ts(days_ago(25)), h, 1000)
    after = deal_vector(row, ts(days_ago(15)), h, 1000)
    # Then a time before it does not see it and one after does
    assert before["first_30d_activities"] == 0
    assert after["first_30d_activities"] == 1 and after["last_7d_activities"] == 1


def test_ages_are_capped_at_what_training_sees(rep):
    # Given a deal open for three years with no activity for two
    row = {"id": 1, "created_at": days_ago(1100), "stage_id": "proposal", "amount": 1000,
           "expected_close_date": days_ago(900).date(), "owner_id": rep.pk, "source": "web", "next_step": ""}
    h = History(pipeline=pipeline(), activities={1: [(ts(days_ago(700)), "call", "", None)]})
    v = deal_vector(row, ts(days_ago(0)), h, 1000)
    # Then no age-like feature goes beyond the oldest age training examples have
    cap = AGE_CAP["deal"]
    assert v["age_days"] == v["days_in_stage"] == v["days_since_activity"] == cap
    assert v["days_to_close"] == -cap


def test_stage_is_rebuilt_from_history():
    stages = pipeline()
    hist = [(100.0, "", "discovery"), (200.0, "discovery", "proposal"), (300.0, "proposal", "closed_lost")]
    assert stage_as_of("closed_lost", hist, 100.0, 150.0, stages) == ("discovery", 100.0)
    assert stage_as_of("closed_lost", hist, 100.0, 250.0, stages) == ("proposal", 200.0)
    assert stage_as_of("closed_lost", hist, 100.0, 50.0, stages)[0] == "discovery"
    # a closed deal with no recorded moves was, before it closed, in the first open stage Stage defines
    assert stage_as_of("closed_won", [], 100.0, 150.0, stages)[0] == stages.first_open == "discovery"


def test_bulk_scoring_builds_the_same_features_as_one_by_one(admin_user, rep, django_capture_on_commit_callbacks):
    # Given a few open deals with different activity histories (logged through the activities service)
    deals = [OpportunityFactory(owner=rep, created_at=days_ago(90)) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        for i, deal in enumerate(deals):
            for k in range(i * 2):
                log_activity(admin_user, when=days_ago(3 + 10 * k), type=("call", "email", "meeting")[k % 3],
                             opportunity=deal)
    now = ts(days_ago(0))
    # When all open deals are scored at once and each one alone
    bulk = scoring_set("deal", now=now)
    for deal in deals:
        one = scoring_set("deal", [deal.pk], now=now)
        # Then both see the same deal
        assert bulk.vectors[bulk.ids.index(deal.pk)] == pytest.approx(one.vectors[0], nan_ok=True)
