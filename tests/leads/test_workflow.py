"""The qualification state machine: every allowed and every refused transition."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from leads import services, workflow
from leads.models import Lead, LeadHistory
from salesapp.models import OutboxEvent
from tests.leads.factories import LeadFactory

S = Lead.Status
ALLOWED = {
    (S.NEW, S.CONTACTED), (S.CONTACTED, S.QUALIFIED), (S.CONTACTED, S.UNQUALIFIED), (S.QUALIFIED, S.CONVERTED),
    (S.UNQUALIFIED, S.NEW),
}
ALL_PAIRS = [(a, b) for a, b in itertools.product(S.values, S.values) if a != b]


@pytest.mark.parametrize("from_status, to_status", ALL_PAIRS)
def test_transition_table_is_exactly_the_documented_one(from_status, to_status):
    assert workflow.can_transition(from_status, to_status) == ((from_status, to_status) in ALLOWED)


@pytest.mark.django_db
@pytest.mark.parametrize("from_status, to_status", sorted(ALLOWED - {(S.QUALIFIED, S.CONVERTED)}))
def test_allowed_transition_changes_status_and_records_history(rep, from_status, to_status):
    lead = LeadFactory(status=from_status, assigned_to=rep)
    services.lead_transition(actor=rep, lead=lead, to_status=to_status)
    lead.refresh_from_db()
    assert lead.status == to_status
    entry = LeadHistory.objects.get(lead=lead, kind="status")
    assert (entry.from_value, entry.to_value, entry.actor) == (from_status, to_status, rep)


@pytest.mark.django_db
@pytest.mark.parametrize("from_status, to_status", [p for p in ALL_PAIRS if p not in ALLOWED])
def test_refused_transition_says_why_and_changes_nothing(rep, from_status, to_status):
    lead = LeadFactory(status=from_status, assigned_to=rep)
    with pytest.raises(ValidationError) as exc:
        services.lead_transition(actor=rep, lead=lead, to_status=to_status)
    assert "status" in exc.value.message_dict
    assert "cannot become" in exc.value.message_dict["status"][0]
    lead.refresh_from_db()
    assert lead.status == from_status


@pytest.mark.django_db
def test_converted_is_reached_only_through_conversion(rep):
    lead = LeadFactory(status=S.QUALIFIED, assigned_to=rep)
    with pytest.raises(ValidationError, match="convert action"):
        services.lead_transition(actor=rep, lead=lead, to_status=S.CONVERTED)


@pytest.mark.django_db
def test_qualifying_publishes_lead_qualified(rep, django_capture_on_commit_callbacks):
    lead = LeadFactory(status=S.CONTACTED, assigned_to=rep)
    services.lead_qualify(actor=rep, lead=lead)
    event = OutboxEvent.objects.get(name="lead.qualified")
    assert event.payload["lead_id"] == lead.pk


@pytest.mark.django_db
def test_api_actions_follow_the_machine(rep, api):
    client = api.as_user(rep)
    lead = LeadFactory(status=S.NEW, assigned_to=rep)
    response = client.post(f"/api/v1/leads/{lead.pk}/qualify/", {})
    assert response.status_code == 400
    assert "cannot become qualified" in response.json()["error"]["fields"]["status"][0]
    assert client.post(f"/api/v1/leads/{lead.pk}/contact/", {}).json()["status"] == "contacted"
    assert client.post(f"/api/v1/leads/{lead.pk}/disqualify/", {"note": "no budget"}).json()["status"] == "unqualified"
    assert client.post(f"/api/v1/leads/{lead.pk}/reopen/", {}).json()["status"] == "new"


@pytest.mark.django_db
def test_read_only_user_cannot_change_status(viewer, rep, api):
    lead = LeadFactory(status=S.NEW, assigned_to=rep)
    assert api.as_user(viewer).post(f"/api/v1/leads/{lead.pk}/contact/", {}).status_code == 403
    lead.refresh_from_db()
    assert lead.status == S.NEW
