"""Scores have one writer (the owning app's service) and one face (the record's own score, everywhere)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from intelligence import services
from leads import services as lead_services
from leads.models import Lead
from opportunities.models import Opportunity
from opportunities.services import deals
from opportunities.services.scores import opportunity_scores_write
from salesapp import events
from salesapp.models import OutboxEvent
from tests.intelligence.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

LEARNED = {"score": 13, "model": "LightGBM v3",
           "factors": [{"factor": "days_since_activity", "points": -0.8, "detail": "no activity for 40 days"}]}


def _lead(actor, **extra):
    return lead_services.lead_create(actor=actor, email="ana@northwind.example", first_name="Ana", last_name="Ruiz",
                                     company="Northwind", industry="software", employee_count=1200,
                                     title="VP Sales", **extra)


def _faces(client, api, lead) -> dict:
    """What the lead page, the lead list, the lead API, the score API and the intelligence panel say."""
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    # every status: the list hides converted and unqualified leads until asked (is_open=)
    listing = client.get(reverse("leads:list") + "?is_open=").content.decode()
    panel = client.get(reverse("intelligence:panel", args=["lead", lead.pk])).content.decode()
    return {
        "page": re.search(r'data-testid="lead-score">(\d+)<.*?data-testid="lead-score-model">([^<]*)<', page, re.S),
        "list": re.search(r'data-testid="lead-score">(\d+)<.*?data-testid="lead-score-model">([^<]*)<', listing, re.S),
        "panel": re.search(r'data-testid="score-model">([^<]*)<.*?data-testid="score-value">(\d+)<', panel, re.S),
        "api": api.get(f"/api/v1/leads/{lead.pk}/").json(),
        "score_api": api.get(f"/api/v1/leads/{lead.pk}/score/").json(),
        "page_html": page, "list_html": listing, "panel_html": panel,
    }


def _same_everywhere(faces) -> tuple[int, str]:
    seen = {
        (int(faces["page"][1]), faces["page"][2]),
        (int(faces["list"][1]), faces["list"][2]),
        (int(faces["panel"][2]), faces["panel"][1]),
        (faces["api"]["score"], faces["api"]["score_model"]),
        (faces["score_api"]["score"], faces["score_api"]["model"]),
    }
    assert len(seen) == 1, seen
    assert faces["api"]["score_factors"] == faces["score_api"]["factors"]
    return seen.pop()


def test_lead_page_list_api_and_panel_show_the_same_score_and_model(client, api, rep):
    # Given a rep's new lead, scored by the leads app's rules
    lead = _lead(rep)
    client.force_login(rep)
    api.as_user(rep)
    # Then every face shows the same score with the rules' label
    faces = _faces(client, api, lead)
    score, model = _same_everywhere(faces)
    assert model == "Rules v1" and score > 0
    # read as points, not as a chance
    for html in (faces["page_html"], faces["list_html"]):
        assert f'data-testid="lead-score">{score}</span><span class="small"> pts</span>' in html

    # When intelligence's learned model scores it (written by the leads app)
    lead_services.lead_scores_write(actor=None, scores={lead.pk: LEARNED})
    # Then every face moves together: no "Score 0" beside "100/100", no "54 rules-v1" beside "13/100 LightGBM"
    faces = _faces(client, api, lead)
    assert _same_everywhere(faces) == (13, "LightGBM v3")
    # and, a calibrated probability, read as a percentage on the page and in the list
    for html in (faces["page_html"], faces["list_html"]):
        assert 'data-testid="lead-score">13</span><span class="small">%</span>' in html


def test_a_converted_lead_shows_its_deals_state_not_a_score(client, api, admin_user):
    # Given a qualified lead converted into a deal that is still open
    lead = _lead(admin_user)
    lead_services.lead_transition(actor=admin_user, lead=lead, to_status="contacted")
    lead_services.lead_qualify(actor=admin_user, lead=lead)
    lead = lead_services.lead_convert(actor=admin_user, lead=lead)
    client.force_login(admin_user)
    api.as_user(admin_user)
    # Then the lead says its deal is open (not "deal won"), on every face, and shows no lead score: the panel
    # and the score API show the deal's own score
    faces = _faces(client, api, lead)
    for html in (faces["page_html"], faces["list_html"], faces["panel_html"]):
        assert "Converted · deal open" in html and 'data-testid="lead-score"' not in html
    assert faces["api"]["outcome"] == faces["score_api"]["outcome"] == "open"
    deal = lead.converted_opportunity
    deal.refresh_from_db()
    assert (faces["score_api"]["score"], faces["score_api"]["model"]) == (deal.deal_score, deal.score_model)

    # When the deal is won
    deals.opportunity_close(actor=admin_user, opportunity=lead.converted_opportunity, outcome="won",
                            amount=Decimal("25000"))
    # Then the lead says so
    faces = _faces(client, api, lead)
    assert "Converted · deal won" in faces["page_html"] and "Converted · deal won" in faces["panel_html"]
    assert faces["score_api"]["outcome"] == "won"


def test_a_closed_deal_shows_its_outcome_on_its_page_and_the_score_api(client, api, rep):
    deal = OpportunityFactory(owner=rep, stage_id="closed_lost")
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    assert 'data-testid="deal-outcome">lost<' in page and 'data-testid="deal-score"' not in page
    assert api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").json() == {
        "score": None, "model": None, "factors": [], "outcome": "lost"}


def test_the_deal_page_board_and_score_api_show_the_stored_score_and_model(client, api, rep):
    deal = OpportunityFactory(owner=rep, stage_id="proposal")
    opportunity_scores_write(actor=None, scores={deal.pk: LEARNED})
    client.force_login(rep)
    page = client.get(reverse("opportunities:detail", args=[deal.pk])).content.decode()
    board = client.get(reverse("opportunities:board")).content.decode()
    for html in (page, board):
        assert 'data-testid="deal-score">13<' in html and 'data-testid="deal-score-model">LightGBM v3<' in html
    body = api.as_user(rep).get(f"/api/v1/opportunities/{deal.pk}/score/").json()
    assert (body["score"], body["model"], body["factors"]) == (13, "LightGBM v3", LEARNED["factors"])


def _audit(model, pk):
    ct = ContentType.objects.get_for_model(model)
    return list(LogEntry.objects.filter(content_type=ct, object_id=pk, action=LogEntry.Action.UPDATE,
                                        changes__has_key="score_model"))


def test_writing_deal_scores_audits_and_publishes_once_per_changed_deal(admin_user, rep):
    # Given two deals
    a, b = OpportunityFactory(owner=rep), OpportunityFactory(owner=rep)
    # When scores are written for both, then again with only b's score changed and a's reasons reworded
    assert opportunity_scores_write(actor=admin_user, scores={a.pk: LEARNED, b.pk: LEARNED}) == 2
    reworded = {**LEARNED, "factors": [{**LEARNED["factors"][0], "detail": "no activity for 41 days"}]}
    assert opportunity_scores_write(actor=None, scores={a.pk: reworded, b.pk: {**LEARNED, "score": 55}}) == 1
    # Then each change of score has one audit entry and one opportunity.scored; a new wording alone has neither
    scored = OutboxEvent.objects.filter(name="opportunity.scored").order_by("created_at", "pk")
    assert [(e.payload["opportunity_id"], e.payload["score"], e.payload["model"]) for e in scored] == [
        (a.pk, 13, "LightGBM v3"), (b.pk, 13, "LightGBM v3"), (b.pk, 55, "LightGBM v3")]
    assert len(_audit(Opportunity, a.pk)) == 1 and len(_audit(Opportunity, b.pk)) == 1
    assert _audit(Opportunity, a.pk)[0].actor == admin_user
    assert Opportunity.objects.get(pk=a.pk).score_factors == reworded["factors"]


def test_writing_lead_scores_audits_publishes_and_notes_the_timeline(rep):
    lead = _lead(rep)
    assert lead_services.lead_scores_write(actor=None, scores={lead.pk: LEARNED}) == 1
    assert lead_services.lead_scores_write(actor=None, scores={lead.pk: LEARNED}) == 0
    assert [e.payload for e in OutboxEvent.objects.filter(name="lead.scored")] == [
        {"lead_id": lead.pk, "score": 13, "model": "LightGBM v3"}]
    entries = _audit(Lead, lead.pk)
    assert len(entries) == 1 and entries[0].changes["score_model"] == ["Rules v1", "LightGBM v3"]
    assert lead.history.filter(kind="scored", to_value="13").exists()


def test_a_bad_score_is_refused_whole(rep):
    deal = OpportunityFactory(owner=rep)
    with pytest.raises(Exception, match="0 to 100"):
        opportunity_scores_write(actor=None, scores={deal.pk: {**LEARNED, "score": 140}})
    assert Opportunity.objects.get(pk=deal.pk).deal_score is None


def test_refreshing_scores_writes_through_the_owning_apps_and_does_not_loop(rep, django_capture_on_commit_callbacks):
    # Given an open deal
    deal = OpportunityFactory(owner=rep, stage_id="proposal")
    # When intelligence refreshes the scores (with every after-commit consumer running)
    with django_capture_on_commit_callbacks(execute=True):
        services.scores_refresh(kind="deal", ids=[deal.pk])
    # Then the deal's score was written once, with its event, and nothing rescored in answer to it
    assert OutboxEvent.objects.filter(name="opportunity.scored").count() == 1
    assert "intelligence.rescore" not in {key for key, _fn in events._consumers["opportunity.scored"]}
    assert "intelligence.rescore" not in {key for key, _fn in events._consumers["lead.scored"]}


def test_intelligence_writes_no_lead_or_deal_table():
    # A bulk UPDATE of leads or deals from intelligence would bypass their services' audit and events.
    root = Path(__file__).resolve().parents[2] / "intelligence"
    writes = re.compile(r"\b(Lead|Opportunity)\.objects\b[^\n]*\.(update|bulk_update|bulk_create|create|delete)\(")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py") if "migrations" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line) or re.search(r"\b(deal_score|score_model|score_factors)\s*=", line)
    ]
    assert offenders == []
