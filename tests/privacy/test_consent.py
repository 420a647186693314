"""Consent and lawful basis on leads and contacts: recorded by the services, shown on the record, and
respected by exports (with the CCPA opt-out)."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads import services as lead_services
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _exported_emails(response) -> list[str]:
    rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    return sorted(row["email"] for row in rows)


def test_exports_leave_out_withdrawn_consent_and_opted_out_people(client, rep):
    now = timezone.now()
    LeadFactory(email="kept@ok.example", assigned_to=rep, lawful_basis="legitimate_interest")
    LeadFactory(email="withdrew@no.example", assigned_to=rep, lawful_basis="consent", consent_source="form",
                consent_at=now, consent_withdrawn_at=now)
    LeadFactory(email="optout@no.example", assigned_to=rep, do_not_sell=True)
    client.force_login(rep)

    assert _exported_emails(client.get("/leads/export/")) == ["kept@ok.example"]
    assert _exported_emails(client.get("/api/v1/leads/export/")) == ["kept@ok.example"]


def test_consent_needs_its_source_and_time_and_is_shown_on_the_lead(client, rep):
    lead = LeadFactory(assigned_to=rep)

    with pytest.raises(ValidationError) as refused:
        lead_services.lead_privacy_update(actor=rep, lead=lead, lawful_basis="consent")
    lead_services.lead_privacy_update(actor=rep, lead=lead, lawful_basis="consent", consent_source="Pricing form",
                                      consent_at=timezone.now())
    client.force_login(rep)
    page = client.get(f"/leads/{lead.pk}/").content.decode()

    assert "consent_at" in refused.value.message_dict
    assert "Lawful basis" in page and "Consent" in page and "Pricing form" in page


def test_a_contacts_consent_and_opt_out_show_on_its_account(client, rep):
    from opportunities.services import contacts
    from tests.opportunities.factories import AccountFactory

    account = AccountFactory(owner=rep)
    contact = contacts.contact_create(actor=rep, account=account, last_name="Buyer", email="buyer@acct.example")
    contacts.contact_privacy_update(actor=rep, contact=contact, lawful_basis="contract", do_not_sell=True)
    client.force_login(rep)

    page = client.get(f"/accounts/{account.pk}/").content.decode()

    assert "Contract" in page and "Opted out (CCPA)" in page


def test_the_api_records_consent_and_shows_it_on_the_lead(client, rep):
    lead = LeadFactory(assigned_to=rep)
    client.force_login(rep)

    incomplete = client.post(f"/api/v1/leads/{lead.pk}/consent/", {"lawful_basis": "consent"},
                             content_type="application/json")
    given = client.post(f"/api/v1/leads/{lead.pk}/consent/", {
        "lawful_basis": "consent", "consent_source": "Webinar sign-up", "consent_at": "2026-01-05T10:00:00Z"},
        content_type="application/json")
    too_early = client.post(f"/api/v1/leads/{lead.pk}/consent/", {"consent_withdrawn_at": "2025-12-01T09:00:00Z"},
                            content_type="application/json")
    withdrawn = client.post(f"/api/v1/leads/{lead.pk}/consent/", {"consent_withdrawn_at": "2026-02-01T09:00:00Z"},
                            content_type="application/json")

    assert incomplete.status_code == 400 and "consent_at" in str(incomplete.json())
    assert given.status_code == 200 and given.json()["consent_source"] == "Webinar sign-up"
    assert too_early.status_code == 400 and "before it was given" in str(too_early.json())
    shown = client.get(f"/api/v1/leads/{lead.pk}/").json()
    assert withdrawn.status_code == 200 and shown["consent_withdrawn_at"].startswith("2026-02-01")
    assert (shown["lawful_basis"], shown["do_not_sell"], shown["erased_at"]) == ("consent", False, None)


def test_conversion_carries_the_leads_consent_and_opt_out_to_its_contact(rep):
    lead = lead_services.lead_create(actor=rep, last_name="Convert", email="conv@ok.example", company="Conv Co")
    lead_services.lead_privacy_update(actor=rep, lead=lead, lawful_basis="consent", consent_source="Trade fair",
                                      consent_at=timezone.now(), do_not_sell=True)
    lead_services.lead_transition(actor=rep, lead=lead, to_status="contacted")
    lead_services.lead_qualify(actor=rep, lead=lead)

    lead = lead_services.lead_convert(actor=rep, lead=lead, amount=100)

    contact = lead.converted_contact
    assert (contact.lawful_basis, contact.consent_source, contact.do_not_sell) == ("consent", "Trade fair", True)
