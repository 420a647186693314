"""Conversion: account (found or created), contact and opportunity in one transaction."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from leads import services
from leads.models import Lead
from opportunities.models import Account, Contact, Opportunity
from salesapp.models import OutboxEvent
from tests.leads.factories import make_territory


def _qualified(actor, **extra):
    data = {"email": "cara@northwind.example", "first_name": "Cara", "last_name": "Ng", "company": "Northwind Inc.",
            "website": "https://www.northwind.example", "country": "US", "state": "CA", "postal_code": "94105",
            "industry": "technology", **extra}
    lead = services.lead_create(actor=actor, **data)
    services.lead_transition(actor=actor, lead=lead, to_status="contacted")
    return services.lead_qualify(actor=actor, lead=lead)


@pytest.mark.django_db
def test_routed_lead_converts_through_the_api_and_reads_converted(manager, jane, api):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    lead = _qualified(manager)
    assert lead.assigned_to == jane and "US West Tech" in lead.assignment_reason
    response = api.as_user(jane).post(f"/api/v1/leads/{lead.pk}/convert/", {"amount": "25000.00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted"
    account = Account.objects.get(pk=body["account_id"])
    contact = Contact.objects.get(pk=body["contact_id"])
    opportunity = Opportunity.objects.get(pk=body["opportunity_id"])
    assert (account.name, account.website_domain) == ("Northwind Inc.", "northwind.example")
    assert (contact.account, contact.email) == (account, "cara@northwind.example")
    assert (opportunity.account, opportunity.lead_id, opportunity.owner, opportunity.amount) == (
        account, lead.pk, jane, Decimal("25000.00"))
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_opportunity_id == opportunity.pk
    assert api.as_user(jane).get(f"/api/v1/leads/{lead.pk}/").json()["status"] == "converted"
    event = OutboxEvent.objects.get(name="lead.converted")
    assert event.payload == {"lead_id": lead.pk, "opportunity_id": opportunity.pk, "account_id": account.pk,
                             "contact_id": contact.pk}


@pytest.mark.django_db
def test_existing_account_is_linked_by_domain_or_normalised_name(manager):
    from opportunities.services.accounts import account_create

    account = account_create(actor=manager, name="NORTHWIND GmbH", website_domain="")
    lead = _qualified(manager, website="")
    lead = services.lead_convert(actor=manager, lead=lead)
    assert lead.converted_account == account
    assert Account.objects.count() == 1


@pytest.mark.django_db
def test_conversion_that_fails_midway_writes_nothing(manager):
    lead = _qualified(manager)
    events_before = OutboxEvent.objects.count()
    # The account and contact are created first; the opportunity then refuses a negative amount.
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(actor=manager, lead=lead, amount=Decimal("-1"))
    assert "amount" in exc.value.message_dict
    assert (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()) == (0, 0, 0)
    lead.refresh_from_db()
    assert lead.status == "qualified" and lead.converted_opportunity_id is None
    assert OutboxEvent.objects.count() == events_before


@pytest.mark.django_db
def test_only_qualified_leads_convert(manager, api):
    lead = services.lead_create(actor=manager, email="early@a.example", assigned_to=manager)
    response = api.as_user(manager).post(f"/api/v1/leads/{lead.pk}/convert/", {})
    assert response.status_code == 400
    assert "cannot become converted" in response.json()["error"]["fields"]["status"][0]
    assert Lead.objects.get(pk=lead.pk).status == "new"
