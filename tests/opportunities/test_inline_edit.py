"""A deal's amount, close date and owner are edited in place on its page, through the deals service."""

from datetime import date
from decimal import Decimal

import pytest

from opportunities.models import Opportunity
from tests.activities.factories import AccountFactory, OpportunityFactory


@pytest.mark.django_db
def test_the_amount_is_edited_in_place(rep, client):
    # Given a rep's open deal
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep), amount=Decimal("1000"))
    client.force_login(rep)
    # When she asks to edit its amount, she gets a one-field form
    form = client.get(f"/opportunities/{deal.pk}/field/amount/?edit=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="amount"' in form and 'aria-label="Edit amount"' not in form
    # And saving it shows the new amount with the currency
    shown = client.post(f"/opportunities/{deal.pk}/field/amount/", {"amount": "48000"}).content.decode()
    assert "$48,000" in shown and 'aria-label="Edit amount"' in shown
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("48000")
    # And a bad date is refused in place, naming the problem
    shown = client.post(f"/opportunities/{deal.pk}/field/expected_close_date/", {"expected_close_date": "soon"})
    assert "Enter a valid date." in shown.content.decode()
    client.post(f"/opportunities/{deal.pk}/field/expected_close_date/", {"expected_close_date": "2027-01-15"})
    assert Opportunity.objects.get(pk=deal.pk).expected_close_date == date(2027, 1, 15)


@pytest.mark.django_db
def test_a_rep_may_only_pick_herself_as_owner(rep, other_rep, client):
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    client.force_login(rep)
    form = client.get(f"/opportunities/{deal.pk}/field/owner/?edit=1").content.decode()
    assert f'value="{rep.pk}"' in form and f'value="{other_rep.pk}"' not in form
    shown = client.post(f"/opportunities/{deal.pk}/field/owner/", {"owner": other_rep.pk}).content.decode()
    assert "Select a valid choice" in shown
    assert Opportunity.objects.get(pk=deal.pk).owner == rep


@pytest.mark.django_db
def test_other_fields_are_not_edited_in_place(rep, client):
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    client.force_login(rep)
    assert client.post(f"/opportunities/{deal.pk}/field/margin/", {"margin": "90"}).status_code == 404
