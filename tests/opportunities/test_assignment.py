"""Whom deals, accounts and contacts may be given to, and under which territory: the kernel's one policy."""

import pytest
from django.urls import reverse

from opportunities.models import Opportunity
from tests.opportunities.factories import AccountFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory
from tests.territories.factories import TerritoryFactory

pytestmark = pytest.mark.django_db


def _refused(response, field):
    assert response.status_code == 400, response.json()
    return response.json()["error"]["fields"][field][0]


def test_a_rep_cannot_give_a_new_deal_to_another_team(api, rep, other_rep):
    account = AccountFactory(owner=rep)
    response = api.as_user(rep).post("/api/v1/opportunities/", {"account_id": account.pk, "name": "Theirs",
                                                                 "owner_id": other_rep.pk}, format="json")
    assert _refused(response, "owner_id") == "You can give records only to yourself."
    assert not Opportunity.objects.exists()


def test_a_rep_cannot_file_a_deal_under_a_territory_they_cannot_see(api, rep):
    account = AccountFactory(owner=rep)
    hidden = TerritoryFactory(name="Hidden")
    response = api.as_user(rep).post("/api/v1/opportunities/", {"account_id": account.pk, "name": "Filed",
                                                                 "territory_id": hidden.pk}, format="json")
    assert "may not see it" in _refused(response, "territory_id")


def test_a_rep_files_a_deal_under_a_territory_they_own(api, rep):
    account = AccountFactory(owner=rep)
    mine = TerritoryFactory(name="Mine", owner=rep)
    response = api.as_user(rep).post("/api/v1/opportunities/", {"account_id": account.pk, "name": "Filed",
                                                                 "territory_id": mine.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["territory_id"] == mine.pk


def test_a_manager_assigns_within_their_subtree_only(api, manager, rep, other_rep):
    account = AccountFactory(owner=manager)
    client = api.as_user(manager)
    ok = client.post("/api/v1/opportunities/", {"account_id": account.pk, "name": "For my rep", "owner_id": rep.pk},
                     format="json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["owner_id"] == rep.pk
    refused = client.patch(f"/api/v1/opportunities/{ok.json()['id']}/", {"owner_id": other_rep.pk}, format="json")
    assert "report to you" in _refused(refused, "owner_id")


def test_nobody_gives_a_record_to_a_read_only_user(api, admin_user, viewer):
    deal = OpportunityFactory(owner=admin_user)
    response = api.as_user(admin_user).patch(f"/api/v1/opportunities/{deal.pk}/", {"owner_id": viewer.pk},
                                             format="json")
    assert "read-only" in _refused(response, "owner_id")


def test_keeping_an_owner_one_could_not_pick_is_no_new_pick(api, manager, rep):
    # Given a deal of the manager's that the rep works through its territory
    territory = TerritoryFactory(name="Shared", owner=rep)
    deal = OpportunityFactory(owner=manager)
    Opportunity.objects.filter(pk=deal.pk).update(territory=territory)
    # When the rep saves it back with its owner unchanged, then it is accepted
    response = api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/",
                                      {"owner_id": manager.pk, "next_step": "Call"}, format="json")
    assert response.status_code == 200, response.json()


def test_accounts_and_contacts_follow_the_same_policy(api, rep, other_rep, manager):
    client = api.as_user(rep)
    account = client.post("/api/v1/accounts/", {"name": "Globex", "owner_id": other_rep.pk}, format="json")
    assert _refused(account, "owner_id") == "You can give records only to yourself."
    mine = AccountFactory(owner=rep)
    assert _refused(client.patch(f"/api/v1/accounts/{mine.pk}/", {"owner_id": other_rep.pk}, format="json"),
                    "owner_id")
    contact = client.post("/api/v1/contacts/", {"account_id": mine.pk, "last_name": "Doe",
                                                "owner_id": other_rep.pk}, format="json")
    assert _refused(contact, "owner_id")
    given = api.as_user(manager).post("/api/v1/accounts/", {"name": "Umbrella", "owner_id": rep.pk}, format="json")
    assert (given.status_code, given.json()["owner_id"]) == (201, rep.pk)


def test_the_deal_form_offers_only_assignable_owners_and_refuses_others(client, rep, other_rep, manager):
    UserFactory(role="read_only", manager=manager)
    account = AccountFactory(owner=rep)
    client.force_login(rep)
    page = client.get(reverse("opportunities:create")).content.decode()
    owner_select = page.split('name="owner"')[1].split("</select>")[0]
    assert f'value="{rep.pk}"' in owner_select
    assert f'value="{other_rep.pk}"' not in owner_select and f'value="{manager.pk}"' not in owner_select
    response = client.post(reverse("opportunities:create"), {"name": "X", "account": account.pk,
                                                             "owner": other_rep.pk, "stage": "discovery"})
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert not Opportunity.objects.exists()


def test_a_managers_account_form_offers_their_subtree(client, manager, rep, other_rep):
    client.force_login(manager)
    page = client.get(reverse("opportunities:account-create")).content.decode()
    owner_select = page.split('name="owner"')[1].split("</select>")[0]
    assert f'value="{rep.pk}"' in owner_select and f'value="{manager.pk}"' in owner_select
    assert f'value="{other_rep.pk}"' not in owner_select
