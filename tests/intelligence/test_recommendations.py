"""Next best action: each situation fires when it holds and not otherwise; accept and dismiss."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intelligence import nba, services
from intelligence.models import Recommendation
from tests.intelligence.factories import ContactFactory, OpportunityFactory, days_ago, log_activity, move

pytestmark = pytest.mark.django_db


def _deal(owner, *, stage="proposal", entered_days=10, contacts=2, next_step="Send the proposal", close_in=30):
    opp = OpportunityFactory(owner=owner, stage_id=stage, created_at=days_ago(60), next_step=next_step,
                             expected_close_date=(timezone.now() + timedelta(days=close_in)).date())
    move(opp, "", "discovery", days_ago(60))
    move(opp, "discovery", stage, days_ago(entered_days))
    for _ in range(contacts):
        opp.contacts.add(ContactFactory(account=opp.account))
    return opp


def _codes(opp):
    return {r.code: r for r in nba.recommendations_sync("deal", opp.pk)}


def test_a_deal_quiet_for_a_month_gets_a_follow_up_whose_reason_says_so(admin_user, rep):
    # Given a healthy deal whose last activity was 31 days ago
    opp = _deal(rep)
    log_activity(admin_user, when=days_ago(31), type="call", opportunity=opp)
    # When its advice is computed
    recs = _codes(opp)
    # Then it is told to schedule a follow-up, because of the silence, and nothing else fires
    assert recs["no_recent_activity"].action == "Schedule a follow-up"
    assert "No activity for 31 days" in recs["no_recent_activity"].reason
    assert set(recs) == {"no_recent_activity"}


def test_a_healthy_deal_gets_no_advice(admin_user, rep):
    opp = _deal(rep)
    log_activity(admin_user, when=days_ago(2), type="call", opportunity=opp)
    assert _codes(opp) == {}


def test_close_date_in_the_past_one_contact_and_no_next_step_fire(admin_user, rep):
    opp = _deal(rep, contacts=1, next_step="", close_in=-5)
    log_activity(admin_user, when=days_ago(1), type="email", opportunity=opp)
    recs = _codes(opp)
    assert set(recs) == {"close_date_past", "single_contact", "no_next_step"}
    assert "passed 5 days ago" in recs["close_date_past"].reason
    assert "Only one contact" in recs["single_contact"].reason
    # ranked: the overdue close date first
    assert nba.recommendations_sync("deal", opp.pk)[0].code == "close_date_past"


def test_stuck_in_stage_past_the_usual_time(admin_user, rep):
    opp = _deal(rep, entered_days=45)
    log_activity(admin_user, when=days_ago(1), type="call", opportunity=opp)
    recs = _codes(opp)
    assert set(recs) == {"stuck_in_stage"}
    assert "45 days in Proposal" in recs["stuck_in_stage"].reason


def test_high_score_without_a_meeting_asks_for_one_until_a_meeting_is_booked(admin_user, rep):
    # Given a deal in negotiation (75% by the rules, plus a recent call, a close date ahead and a next step: 88)
    # with recent calls but no meeting
    opp = _deal(rep, stage="negotiation")
    log_activity(admin_user, when=days_ago(1), type="call", opportunity=opp)
    services.scores_refresh(kind="deal", ids=[opp.pk])  # as the consumer of activity.logged does
    recs = _codes(opp)
    assert set(recs) == {"high_score_no_meeting"}
    assert "Score 88" in recs["high_score_no_meeting"].reason
    # When a meeting is booked for next week, the advice goes away
    log_activity(admin_user, when=timezone.now() + timedelta(days=7), type="meeting", opportunity=opp)
    assert _codes(opp) == {}


def test_accept_creates_the_task_and_dismiss_is_remembered(admin_user, rep):
    from activities.selectors import activities_for

    opp = _deal(rep, contacts=1, next_step="")
    log_activity(admin_user, when=days_ago(1), type="call", opportunity=opp)
    recs = _codes(opp)

    # When the rep accepts "set a next step", a task with that subject exists on the deal
    accepted = services.recommendation_accept(actor=rep, recommendation=recs["no_next_step"])
    tasks = [a for a in activities_for(kind="opportunity", ids=[opp.pk]) if a["type"] == "task"]
    assert [str(t["id"]) for t in tasks] == [accepted.task_id]
    assert accepted.status == Recommendation.Status.ACCEPTED

    # When the rep dismisses "engage another contact", it is not raised again on this deal
    services.recommendation_dismiss(actor=rep, recommendation=recs["single_contact"])
    assert set(_codes(opp)) == set()

    # And on another deal the same advice now ranks below advice that was never dismissed
    other = _deal(rep, contacts=1, next_step="")
    log_activity(admin_user, when=days_ago(1), type="call", opportunity=other)
    ranked = nba.recommendations_sync("deal", other.pk)
    by_code = {r.code: r for r in ranked}
    assert by_code["single_contact"].priority < nba.BASE_PRIORITY["single_contact"]
    assert by_code["no_next_step"].priority > nba.BASE_PRIORITY["no_next_step"]
