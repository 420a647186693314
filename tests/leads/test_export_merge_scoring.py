"""Exports (escaped, restricted), dedup and merge, and the scorer interface."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from leads import scoring, services
from leads.dedup import find_duplicates
from leads.models import Lead
from salesapp import events
from tests.leads.factories import LeadFactory


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.django_db
def test_export_escapes_formulas_and_holds_only_visible_leads(rep, other_rep, client):
    LeadFactory(assigned_to=rep, first_name="=HYPERLINK(\"http://x\")", company="+1 Corp", title="@boss",
                last_name="-minus", email="mine@a.example")
    LeadFactory(assigned_to=other_rep, email="theirs@b.example")
    client.force_login(rep)
    rows = _csv(client.get("/leads/export/"))
    header, body = rows[0], rows[1:]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["email"] == "mine@a.example"
    assert row["first_name"] == "'=HYPERLINK(\"http://x\")"
    assert (row["company"], row["title"], row["last_name"]) == ("'+1 Corp", "'@boss", "'-minus")


@pytest.mark.django_db
def test_api_export_follows_the_filters(manager, api):
    LeadFactory(assigned_to=manager, status="new", email="n@a.example")
    LeadFactory(assigned_to=manager, status="contacted", email="c@a.example")
    response = api.as_user(manager).get("/api/v1/leads/export/?status=contacted")
    assert [r[5] for r in _csv(response)[1:]] == ["c@a.example"]


@pytest.mark.django_db
def test_duplicates_found_by_email_phone_and_same_person_at_same_company(rep):
    a = LeadFactory(email="Jo.Smith@Acme.example", phone="+1 (555) 010-2000", first_name="Jo", last_name="Smith",
                    company="Acme, Inc.")
    found = dict(find_duplicates({"email": " jo.smith@acme.EXAMPLE"}))
    assert found[a] == ["same email"]
    found = dict(find_duplicates({"email": "x@y.example", "phone": "+15550102000"}))
    assert found[a] == ["same phone"]
    found = dict(find_duplicates({"email": "x@y.example", "first_name": "Jó", "last_name": "SMITH",
                                  "company": "ACME GmbH"}))
    assert found[a] == ["same person at the same company"]
    assert find_duplicates({"email": "x@y.example", "first_name": "Al", "last_name": "Smith", "company": "Acme"}) == []


@pytest.mark.django_db
def test_api_create_warns_about_duplicates(rep, api):
    LeadFactory(email="dup@acme.example", assigned_to=rep)
    body = api.as_user(rep).post("/api/v1/leads/", {"email": "DUP@acme.example"}).json()
    assert [d["reasons"] for d in body["duplicates"]] == [["same email"]]


@pytest.mark.django_db
def test_merge_fills_blanks_keeps_the_other_as_merged_with_history(rep, api):
    target = LeadFactory(email="a@acme.example", assigned_to=rep, phone="", title="", activity_count=1)
    other = LeadFactory(email="a2@acme.example", assigned_to=rep, phone="+1 555 0100", title="CTO", activity_count=2,
                        last_activity_at=timezone.now())
    response = api.as_user(rep).post(f"/api/v1/leads/{target.pk}/merge/", {"other_id": other.pk})
    assert response.status_code == 200, response.content
    target.refresh_from_db()
    other.refresh_from_db()
    assert (target.phone, target.title, target.activity_count) == ("+1 555 0100", "CTO", 3)
    assert other.merged_into == target
    assert target.history.filter(kind="merged").exists() and other.history.filter(kind="merged").exists()
    listed = [r["id"] for r in api.as_user(rep).get("/api/v1/leads/").json()["results"]]
    assert listed == [target.pk]
    assert api.as_user(rep).post(f"/api/v1/leads/{target.pk}/merge/", {"other_id": other.pk}).status_code == 400


@pytest.mark.django_db
def test_rule_score_counts_fit_and_engagement(rep):
    lead = LeadFactory(industry="Technology", employee_count=1500, annual_revenue=200_000_000, title="VP Sales")
    result = scoring.rules_score(lead)
    assert result.model == scoring.RULES
    assert result.score == 20 + 15 + 10 + 12
    lead.activity_count, lead.last_activity_at = 3, timezone.now() - timedelta(days=2)
    assert scoring.rules_score(lead).score == min(60, 57) + 12 + 20


@pytest.mark.django_db
def test_a_registered_scorer_wins_and_may_decline(manager):
    scoring.register_scorer("test-model", lambda lead: scoring.ScoreResult(91, "test-model", [])
                            if lead.company == "Chosen" else None, priority=50)
    try:
        chosen = services.lead_create(actor=manager, email="c@chosen.example", company="Chosen")
        other = services.lead_create(actor=manager, email="o@other.example", company="Other")
    finally:
        scoring.unregister_scorer("test-model")
    assert (chosen.score, chosen.score_model) == (91, "test-model")
    assert other.score_model == scoring.RULES


@pytest.mark.django_db(transaction=True)
def test_logged_activity_updates_last_activity_and_score(manager):
    from django.db import transaction

    lead = services.lead_create(actor=manager, email="engaged@a.example")
    before = lead.score
    when = timezone.now()
    with transaction.atomic():
        events.publish("activity.logged", {"activity_id": 1, "type": "call", "lead_id": lead.pk, "opportunity_id": None,
                                           "account_id": None, "user_id": manager.pk, "occurred_at": when.isoformat(),
                                           "completed_at": when.isoformat()})
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.last_activity_at == when and lead.activity_count == 1
    assert lead.score == before + 4 + 20


@pytest.mark.django_db(transaction=True)
def test_merge_moves_the_other_leads_activities_onto_the_target_timeline(rep, api):
    from activities.services import activity_log

    target = LeadFactory(email="t@merge.example", assigned_to=rep)
    other = LeadFactory(email="o@merge.example", assigned_to=rep)
    activity_log(actor=rep, type="call", subject="Call on the duplicate", lead_id=other.pk, duration_minutes=5)
    activity_log(actor=rep, type="email", subject="Email on the target", lead_id=target.pk)

    response = api.as_user(rep).post(f"/api/v1/leads/{target.pk}/merge/", {"other_id": other.pk})
    assert response.status_code == 200, response.content

    timeline = api.as_user(rep).get(f"/api/v1/timeline/?lead={target.pk}").json()["results"]
    subjects = {entry.get("subject") or entry.get("title") for entry in timeline}
    assert {"Call on the duplicate", "Email on the target"} <= subjects
