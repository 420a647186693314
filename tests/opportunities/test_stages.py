"""Stage rules: transitions, probability defaulting and override, closing, reopening, history."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opportunities.models import Opportunity, Stage, StageHistory
from opportunities.services import deals
from salesapp.models import OutboxEvent
from tests.opportunities.factories import OpportunityFactory

OPEN = ["discovery", "qualification", "proposal", "negotiation"]


def events(name):
    return list(OutboxEvent.objects.filter(name=name).order_by("created_at"))


@pytest.mark.django_db
def test_stages_are_seeded_with_default_probabilities():
    assert {s.key: s.default_probability for s in Stage.objects.all()} == {
        "discovery": 10, "qualification": 20, "proposal": 50, "negotiation": 75, "closed_won": 100, "closed_lost": 0,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("source", OPEN)
@pytest.mark.parametrize("target", OPEN)
def test_every_open_to_open_move_is_allowed_and_recorded(rep, source, target):
    opp = OpportunityFactory(owner=rep, stage=source)
    before = StageHistory.objects.filter(opportunity=opp).count()
    deals.opportunity_update(actor=rep, opportunity=opp, stage=target)
    opp.refresh_from_db()
    assert opp.stage_id == target
    assert opp.probability == Stage.objects.get(pk=target).default_probability
    moved = source != target
    assert StageHistory.objects.filter(opportunity=opp).count() == before + moved
    assert len(events("opportunity.stage_changed")) == moved


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["closed_won", "closed_lost"])
def test_update_cannot_close_a_deal(rep, target):
    opp = OpportunityFactory(owner=rep)
    with pytest.raises(ValidationError) as err:
        deals.opportunity_update(actor=rep, opportunity=opp, stage=target)
    assert "stage" in err.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["won", "lost"])
@pytest.mark.parametrize("target", OPEN)
def test_closed_deal_cannot_move_until_reopened(manager, rep, outcome, target):
    opp = OpportunityFactory(owner=rep)
    deals.opportunity_close(actor=rep, opportunity=opp, outcome=outcome, reason="Price")
    with pytest.raises(ValidationError) as err:
        deals.opportunity_update(actor=rep, opportunity=opp, stage=target)
    assert "reopen" in err.value.message_dict["stage"][0]


@pytest.mark.django_db
def test_new_deal_cannot_start_closed(rep):
    with pytest.raises(ValidationError):
        OpportunityFactory(owner=rep, stage="closed_won")


@pytest.mark.django_db
def test_probability_follows_stage_until_set_by_hand(rep):
    opp = OpportunityFactory(owner=rep)
    assert (opp.probability, opp.probability_is_manual) == (10, False)
    deals.opportunity_update(actor=rep, opportunity=opp, probability=35)
    deals.opportunity_update(actor=rep, opportunity=opp, stage="proposal")
    opp.refresh_from_db()
    assert (opp.stage_id, opp.probability, opp.probability_is_manual) == ("proposal", 35, True)
    deals.opportunity_update(actor=rep, opportunity=opp, probability=None)
    opp.refresh_from_db()
    assert (opp.probability, opp.probability_is_manual) == (50, False)


@pytest.mark.django_db
def test_forecast_category_defaults_from_probability_and_owner_overrides(rep, manager):
    opp = OpportunityFactory(owner=rep)
    assert opp.forecast_category == "pipeline"
    deals.opportunity_update(actor=rep, opportunity=opp, stage="proposal")
    opp.refresh_from_db()
    assert opp.forecast_category == "best_case"
    deals.opportunity_update(actor=rep, opportunity=opp, stage="negotiation")
    opp.refresh_from_db()
    assert opp.forecast_category == "commit"
    deals.opportunity_update(actor=rep, opportunity=opp, forecast_category="omitted")
    deals.opportunity_update(actor=rep, opportunity=opp, stage="qualification")
    opp.refresh_from_db()
    assert (opp.forecast_category, opp.forecast_category_is_manual) == ("omitted", True)
    with pytest.raises(ValidationError) as err:
        deals.opportunity_update(actor=manager, opportunity=opp, forecast_category="commit")
    assert "forecast_category" in err.value.message_dict


@pytest.mark.django_db
def test_winning_needs_an_amount_and_sets_close_date(rep):
    opp = OpportunityFactory(owner=rep, amount=None)
    with pytest.raises(ValidationError) as err:
        deals.opportunity_close(actor=rep, opportunity=opp, outcome="won", reason="")
    assert "amount" in err.value.message_dict
    deals.opportunity_close(actor=rep, opportunity=opp, outcome="won", amount=Decimal("5000"))
    opp.refresh_from_db()
    assert opp.stage_id == "closed_won"
    assert opp.actual_close_date == timezone.localdate()
    assert (opp.probability, opp.forecast_category) == (100, "closed")
    won = events("opportunity.won")
    assert len(won) == 1
    assert won[0].payload["amount"] == "5000.00"
    assert won[0].payload["actual_close_date"] == timezone.localdate().isoformat()
    assert {"opportunity_id", "owner_id", "territory_id", "amount", "actual_close_date"} <= set(won[0].payload)


@pytest.mark.django_db
def test_losing_needs_a_reason_from_the_list(rep):
    opp = OpportunityFactory(owner=rep)
    with pytest.raises(ValidationError) as err:
        deals.opportunity_close(actor=rep, opportunity=opp, outcome="lost", reason="")
    assert "reason" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        deals.opportunity_close(actor=rep, opportunity=opp, outcome="lost", reason="Bad vibes")
    assert "reason" in err.value.message_dict
    deals.opportunity_close(actor=rep, opportunity=opp, outcome="lost", reason="price")
    opp.refresh_from_db()
    assert (opp.stage_id, opp.loss_reason.name, opp.probability) == ("closed_lost", "Price", 0)
    assert events("opportunity.lost")[0].payload["loss_reason"] == "Price"


@pytest.mark.django_db
def test_reopen_needs_manager_rights_and_returns_to_previous_stage(rep, manager):
    opp = OpportunityFactory(owner=rep, stage="negotiation")
    deals.opportunity_close(actor=rep, opportunity=opp, outcome="won")
    with pytest.raises(PermissionDenied):
        deals.opportunity_reopen(actor=rep, opportunity=opp)
    deals.opportunity_reopen(actor=manager, opportunity=opp)
    opp.refresh_from_db()
    assert (opp.stage_id, opp.probability, opp.actual_close_date) == ("negotiation", 75, None)
    reopened = events("opportunity.reopened")[0]
    assert reopened.payload["previous_stage"] == "closed_won"
    assert reopened.payload["actual_close_date"] == timezone.localdate().isoformat()
    last = StageHistory.objects.filter(opportunity=opp).order_by("-changed_at", "-id").first()
    assert (last.from_stage, last.to_stage, last.note, last.changed_by) == ("closed_won", "negotiation", "reopened",
                                                                           manager)


@pytest.mark.django_db
def test_history_records_days_in_previous_stage(rep):
    opp = OpportunityFactory(owner=rep)
    Opportunity.objects.filter(pk=opp.pk).update(stage_changed_at=timezone.now() - timedelta(days=3, hours=12))
    deals.opportunity_update(actor=rep, opportunity=Opportunity.objects.get(pk=opp.pk), stage="qualification")
    row = StageHistory.objects.filter(opportunity=opp, to_stage="qualification").get()
    assert row.from_stage == "discovery"
    assert row.changed_by == rep
    assert Decimal("3.49") <= row.days_in_previous_stage <= Decimal("3.51")


@pytest.mark.django_db
def test_bulk_stage_writes_history_and_event_per_deal_in_batches(rep, other_rep):
    mine = [OpportunityFactory(owner=rep) for _ in range(3)]
    ids = [o.pk for o in mine]
    ids += list(range(10_000, 10_250))  # unknown ids spread over three batches
    closed = OpportunityFactory(owner=rep)
    deals.opportunity_close(actor=rep, opportunity=closed, outcome="won")
    OutboxEvent.objects.all().delete()
    result = deals.opportunity_bulk_stage(actor=rep, ids=[*ids, closed.pk], stage="proposal")
    assert sorted(result["updated"]) == sorted(o.pk for o in mine)
    assert result["errors"][closed.pk].startswith("Closed")
    assert len(result["errors"]) == 251
    for opp in mine:
        opp.refresh_from_db()
        assert (opp.stage_id, opp.probability) == ("proposal", 50)
        assert StageHistory.objects.filter(opportunity=opp, to_stage="proposal", note="bulk").count() == 1
    changed = events("opportunity.stage_changed")
    assert sorted(e.payload["opportunity_id"] for e in changed) == sorted(o.pk for o in mine)


@pytest.mark.django_db
def test_bulk_stage_refuses_closed_target(rep):
    with pytest.raises(ValidationError):
        deals.opportunity_bulk_stage(actor=rep, ids=[1], stage="closed_won")


@pytest.mark.django_db
def test_viewer_cannot_write(viewer, rep):
    opp = OpportunityFactory(owner=rep)
    with pytest.raises(PermissionDenied):
        deals.opportunity_update(actor=viewer, opportunity=opp, stage="proposal")


@pytest.mark.django_db
def test_admin_stage_probability_change_moves_following_deals(admin_user, rep):
    follows = OpportunityFactory(owner=rep)
    manual = OpportunityFactory(owner=rep)
    deals.opportunity_update(actor=rep, opportunity=manual, probability=33)
    deals.stage_update(actor=admin_user, stage=Stage.objects.get(pk="discovery"), default_probability=15)
    follows.refresh_from_db()
    manual.refresh_from_db()
    assert (follows.probability, manual.probability) == (15, 33)
