"""A stage's default probability: changing it moves the open deals that follow it, with audit and events."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from opportunities import selectors
from opportunities.models import Opportunity, Stage
from opportunities.services import deals
from salesapp.models import OutboxEvent
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _deal_audit(deal):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity), object_pk=str(deal.pk))


def _updated_events():
    return {e.payload["opportunity_id"]: e.payload for e in OutboxEvent.objects.filter(name="opportunity.updated")}


@pytest.fixture
def proposal_deals(rep, manager):
    """Open proposal deals following the default (50 %, best case), one with a hand-set probability,
    one with a hand-set category, and deals elsewhere that must not move.
    """
    following = [OpportunityFactory(owner=rep, stage="proposal") for _ in range(3)]
    manual = OpportunityFactory(owner=rep, stage="proposal")
    deals.opportunity_update(actor=rep, opportunity=manual, probability=35)
    pinned = OpportunityFactory(owner=rep, stage="proposal")
    deals.opportunity_update(actor=rep, opportunity=pinned, forecast_category="omitted")
    elsewhere = OpportunityFactory(owner=rep, stage="negotiation")
    won = OpportunityFactory(owner=manager, stage="proposal")
    deals.opportunity_close(actor=manager, opportunity=won, outcome="won")
    OutboxEvent.objects.all().delete()
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity)).delete()
    return {"following": following, "manual": manual, "pinned": pinned, "elsewhere": elsewhere, "won": won}


def _state(deal):
    deal.refresh_from_db()
    return deal.probability, deal.forecast_category


def test_proposal_50_to_60_moves_every_following_open_deal_through_the_api(api, admin_user, rep, proposal_deals):
    # When an admin changes the proposal stage's default probability from 50 to 60
    response = api.as_user(admin_user).patch("/api/v1/opportunity-stages/proposal/", {"default_probability": 60}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["default_probability"] == 60
    # Then every open proposal deal that followed the default shows 60 % and the category 60 implies
    client = api.as_user(rep)
    for deal in proposal_deals["following"]:
        body = client.get(f"/api/v1/opportunities/{deal.pk}/").json()
        assert (body["probability"], body["forecast_category"]) == (60, "best_case")
    # a hand-pinned category keeps its category but follows the probability
    assert _state(proposal_deals["pinned"]) == (60, "omitted")
    # deals with a hand-set probability, in other stages or closed are untouched
    assert _state(proposal_deals["manual"]) == (35, "pipeline")
    assert _state(proposal_deals["elsewhere"]) == (75, "commit")
    assert _state(proposal_deals["won"]) == (100, "closed")
    # with one audit entry and one opportunity.updated event for each deal that moved
    moved = [*proposal_deals["following"], proposal_deals["pinned"]]
    events = _updated_events()
    assert sorted(events) == sorted(d.pk for d in moved)
    for deal in moved:
        (entry,) = _deal_audit(deal)
        assert entry.changes["probability"] == ["50", "60"]
        assert entry.actor == admin_user
        assert events[deal.pk]["probability"] == 60
        assert "probability" in events[deal.pk]["fields"]
    assert not _deal_audit(proposal_deals["manual"]).exists()


def test_a_default_that_implies_another_category_moves_the_category_too(api, admin_user, proposal_deals):
    api.as_user(admin_user).patch("/api/v1/opportunity-stages/proposal/", {"default_probability": 80}, format="json")
    deal = proposal_deals["following"][0]
    assert _state(deal) == (80, "commit")
    assert sorted(_updated_events()[deal.pk]["fields"]) == ["forecast_category", "probability"]
    (entry,) = _deal_audit(deal)
    assert entry.changes == {"probability": ["50", "80"], "forecast_category": ["best_case", "commit"]}


def test_the_deals_are_moved_in_batches(api, admin_user, proposal_deals, monkeypatch):
    monkeypatch.setattr(deals, "STAGE_DEFAULT_BATCH", 2)
    api.as_user(admin_user).patch("/api/v1/opportunity-stages/proposal/", {"default_probability": 40}, format="json")
    assert [_state(d) for d in proposal_deals["following"]] == [(40, "pipeline")] * 3
    assert len(_updated_events()) == 4


def test_only_admins_change_a_stage(api, manager):
    response = api.as_user(manager).patch("/api/v1/opportunity-stages/proposal/", {"default_probability": 60}, format="json")
    assert response.status_code == 403
    assert Stage.objects.get(pk="proposal").default_probability == 50


def test_the_admin_console_stage_form_moves_the_deals_too(client, admin_user, proposal_deals):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post("/admin/opportunities/stage/proposal/change/",
                           {"label": "Proposal sent", "order": 3, "default_probability": 60})
    assert response.status_code == 302, response.context["adminform"].form.errors
    stage = Stage.objects.get(pk="proposal")
    assert (stage.label, stage.default_probability) == ("Proposal sent", 60)
    assert [_state(d) for d in proposal_deals["following"]] == [(60, "best_case")] * 3
    assert len(_updated_events()) == 4


def test_the_admin_console_stage_list_edit_moves_the_deals_too(client, admin_user, proposal_deals):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    stages = list(Stage.objects.order_by("order"))
    form = {"form-TOTAL_FORMS": len(stages), "form-INITIAL_FORMS": len(stages), "_save": "Save"}
    for i, stage in enumerate(stages):
        form[f"form-{i}-key"] = stage.key
        form[f"form-{i}-default_probability"] = 90 if stage.key == "proposal" else stage.default_probability
    response = client.post("/admin/opportunities/stage/", form)
    assert response.status_code == 302
    assert [_state(d) for d in proposal_deals["following"]] == [(90, "commit")] * 3


def test_open_and_won_stages_come_from_the_stage_table():
    assert selectors.open_stage_keys() == ["discovery", "qualification", "proposal", "negotiation"]
    assert (selectors.won_stage_keys(), selectors.lost_stage_keys()) == (["closed_won"], ["closed_lost"])
    Stage.objects.create(key="pilot", label="Pilot", order=0, default_probability=30)
    assert selectors.open_stage_keys()[0] == "pilot"


def test_a_new_stage_counts_in_the_pipeline_and_board(api, client, rep):
    # Given an admin-added open stage (no code names it)
    Stage.objects.create(key="pilot", label="Pilot", order=5, default_probability=60)
    Stage.objects.filter(key__in=["closed_won", "closed_lost"]).update(order=9)
    deal = OpportunityFactory(owner=rep, stage="pilot", amount=900)
    # Then the pipeline summary, the stage filter and the board know it
    summary = api.as_user(rep).get("/api/v1/pipeline/summary/").json()
    assert {s["stage"]: s["count"] for s in summary["stages"]}["pilot"] == 1
    rows = api.as_user(rep).get("/api/v1/opportunities/?stage=pilot").json()["results"]
    assert [r["id"] for r in rows] == [deal.pk]
    client.force_login(rep)
    assert "Pilot" in client.get("/pipeline/").content.decode()
