"""Implicit parent access: whoever sees a deal reads its account and the account's contacts, read only;
seeing an account does not open its deals.
"""

import pytest
from django.urls import reverse

from opportunities.services import contacts, deals
from tests.opportunities.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins_account_with_reps_deal(admin_user, rep):
    """An account an admin created and owns, a contact at it, and a deal on it the rep owns."""
    account = AccountFactory(owner=admin_user, name="Massive Dynamic")
    contact = contacts.contact_create(actor=admin_user, account=account, first_name="Nina", last_name="Sharp")
    deal = deals.opportunity_create(actor=admin_user, account=account, name="Massive platform", owner=rep)
    return account, contact, deal


def test_the_deal_owner_reads_the_account_and_its_contacts(api, rep, admins_account_with_reps_deal):
    account, contact, _ = admins_account_with_reps_deal
    client = api.as_user(rep)
    got = client.get(f"/api/v1/accounts/{account.pk}/")
    assert (got.status_code, got.json()["name"]) == (200, "Massive Dynamic")
    assert [a["id"] for a in client.get("/api/v1/accounts/").json()["results"]] == [account.pk]
    assert client.get(f"/api/v1/contacts/{contact.pk}/").json()["last_name"] == "Sharp"
    listed = client.get(f"/api/v1/contacts/?account={account.pk}").json()["results"]
    assert [c["id"] for c in listed] == [contact.pk]


def test_the_deal_owner_cannot_change_the_account_or_its_contacts(api, rep, admins_account_with_reps_deal):
    account, contact, _ = admins_account_with_reps_deal
    client = api.as_user(rep)
    assert client.put(f"/api/v1/accounts/{account.pk}/", {"name": "Renamed"}, format="json").status_code == 404
    assert client.patch(f"/api/v1/accounts/{account.pk}/", {"name": "Renamed"}, format="json").status_code == 404
    assert client.patch(f"/api/v1/contacts/{contact.pk}/", {"title": "CEO"}, format="json").status_code == 404
    added = client.post("/api/v1/contacts/", {"account_id": account.pk, "last_name": "Bishop"}, format="json")
    assert added.status_code == 400
    assert "account_id" in added.json()["error"]["fields"]
    account.refresh_from_db()
    assert account.name == "Massive Dynamic"


def test_a_rep_of_another_team_gets_404(api, other_rep, admins_account_with_reps_deal):
    account, contact, deal = admins_account_with_reps_deal
    client = api.as_user(other_rep)
    assert client.get(f"/api/v1/accounts/{account.pk}/").status_code == 404
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert client.get(f"/api/v1/opportunities/{deal.pk}/").status_code == 404


def test_seeing_an_account_does_not_open_its_deals(api, rep, other_rep, admin_user):
    account = AccountFactory(owner=rep)
    theirs = deals.opportunity_create(actor=admin_user, account=account, name="Not yours", owner=other_rep)
    client = api.as_user(rep)
    assert client.get(f"/api/v1/accounts/{account.pk}/").status_code == 200
    assert client.get(f"/api/v1/opportunities/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/opportunities/?account={account.pk}").json()["results"] == []


def test_the_account_page_reads_without_edit_buttons(client, rep, other_rep, admins_account_with_reps_deal):
    account, _, deal = admins_account_with_reps_deal
    client.force_login(rep)
    page = client.get(reverse("opportunities:account-detail", args=[account.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nina Sharp" in html and "Massive platform" in html
    assert reverse("opportunities:account-edit", args=[account.pk]) not in html
    assert reverse("opportunities:contact-create", args=[account.pk]) not in html
    assert client.get(reverse("opportunities:account-edit", args=[account.pk])).status_code == 404
    client.force_login(other_rep)
    assert client.get(reverse("opportunities:account-detail", args=[account.pk])).status_code == 404


def test_the_account_owner_sees_the_edit_buttons(client, rep):
    account = AccountFactory(owner=rep)
    client.force_login(rep)
    html = client.get(reverse("opportunities:account-detail", args=[account.pk])).content.decode()
    assert reverse("opportunities:account-edit", args=[account.pk]) in html
    assert reverse("opportunities:contact-create", args=[account.pk]) in html
