"""Who sees, logs and deletes activities: one rule, reached through the store and through restrict()."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from activities import checks, links, selectors, services, timeline
from activities.models import Activity
from salesapp.access import CHANGE, DELETE, VIEW
from tests.activities.factories import AccountFactory, ContactFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"


@pytest.fixture
def admins_account(admin_user, rep):
    """An account an admin created, with a contact, and a deal on it that the rep owns."""
    account = AccountFactory(owner=admin_user, name="Globex")
    contact = ContactFactory(account=account, first_name="Hank", last_name="Scorpio")
    deal = OpportunityFactory(account=account, owner=rep, name="Globex renewal")
    return account, contact, deal


def test_rep_who_owns_a_deal_reads_its_account_and_contacts_and_logs_calls_on_both(sql_store, api, rep, admins_account):
    # Given an admin's account with a contact, and a deal on it the rep owns
    account, contact, _deal = admins_account
    client = api.as_user(rep)
    # When the rep opens the account and its contacts
    got = client.get(f"/api/v1/accounts/{account.pk}/")
    assert got.status_code == 200 and got.json()["name"] == "Globex"
    contacts = client.get(f"/api/v1/contacts/?account={account.pk}").json()["results"]
    assert [c["id"] for c in contacts] == [contact.pk]
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 200
    # and logs a call against the account and one against the contact
    on_account = client.post(URL, {"type": "call", "subject": "Account call", "account_id": account.pk}, format="json")
    on_contact = client.post(URL, {"type": "call", "subject": "Contact call", "contact_id": contact.pk}, format="json")
    # Then both are logged, the contact's call filed under its account too
    assert on_account.status_code == 201, on_account.json()
    assert on_contact.status_code == 201, on_contact.json()
    assert on_contact.json()["account_id"] == account.pk
    # and both are on the account's timeline and in the account's activity list
    page = client.get(f"/api/v1/timeline/?account={account.pk}&type=call").json()
    assert {e["title"] for e in page["results"]} == {"Account call", "Contact call"}
    listed = client.get(f"{URL}?account={account.pk}").json()["results"]
    assert {a["id"] for a in listed} == {on_account.json()["id"], on_contact.json()["id"]}


def test_rep_of_another_team_gets_404_for_the_account_and_400_logging_against_it(
    sql_store, api, rep, other_rep, admins_account
):
    # Given an admin's account whose deal belongs to a rep of another team
    account, contact, _deal = admins_account
    services.activity_log(actor=rep, type="call", account_id=account.pk, subject="Seen by the deal's rep only")
    client = api.as_user(other_rep)
    # Then the other rep can neither open the account or its contact, nor read its timeline
    assert client.get(f"/api/v1/accounts/{account.pk}/").status_code == 404
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert client.get(f"/api/v1/timeline/?account={account.pk}").status_code == 404
    assert client.get(URL).json()["results"] == []
    # and logging against the account or the contact is refused, naming the field
    for field, record in (("account_id", account), ("contact_id", contact)):
        response = client.post(URL, {"type": "call", field: record.pk}, format="json")
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [field]
    assert Activity.objects.count() == 1


def test_seeing_an_account_does_not_open_the_activities_of_its_deals(backend, rep, other_rep, admins_account):
    # Given a call on the rep's deal, and a call on the account itself
    account, _contact, deal = admins_account
    services.activity_log(actor=rep, type="call", opportunity_id=deal.pk, subject="On the deal")
    services.activity_log(actor=rep, type="call", account_id=account.pk, subject="On the account")
    # When another rep is given the account (they see it, but not the deal)
    account.owner = other_rep
    account.save(update_fields=["owner"])
    # Then they see the account's own call only
    subjects = [d["subject"] for d in selectors.activity_list(user=other_rep)[0]]
    assert subjects == ["On the account"]
    entries = timeline.timeline(user=other_rep, kind="account", record_id=account.pk, types=["call"]).entries
    assert [e.title for e in entries] == ["On the account"]


def test_restrict_and_the_store_condition_select_the_same_activities(sql_store, rep, manager, other_rep, viewer,  # noqa: PLR0917
                                                                     admin_user, admins_account):
    # Given activities on a deal, an account, a contact, and none, by several people
    account, contact, deal = admins_account
    services.activity_log(actor=rep, type="call", opportunity_id=deal.pk)
    services.activity_log(actor=rep, type="call", contact_id=contact.pk)
    services.activity_log(actor=admin_user, type="email", account_id=account.pk)
    services.activity_log(actor=rep, type="task", subject="own")
    services.activity_log(actor=other_rep, type="task", subject="theirs")
    services.activity_log(actor=manager, type="task", user_id=rep.pk, subject="for the rep")
    # Then for every user and action, Activity.objects.restrict() and the store condition agree
    for user in (rep, manager, other_rep, viewer, admin_user):
        for action in (VIEW, CHANGE, DELETE):
            restricted = set(Activity.objects.restrict(user, action).values_list("pk", flat=True))
            in_store = {d["id"] for d in sql_store.find(links.access_cond(user, action), limit=0)}
            assert restricted == in_store, (user.email, action)
    # and they mean what the rule says: the rep sees all but the other rep's task; the viewer sees nothing of theirs
    assert Activity.objects.restrict(rep).count() == 5
    assert not Activity.objects.restrict(viewer, CHANGE).exists()
    assert Activity.objects.restrict(admin_user, DELETE).count() == 6


def test_the_rep_deletes_their_own_activities_but_not_an_admins_on_their_account(backend, api, rep, admin_user,
                                                                                 admins_account):
    account, _contact, _deal = admins_account
    theirs = services.activity_log(actor=admin_user, type="email", account_id=account.pk, subject="Admin's email")
    mine = services.activity_log(actor=rep, type="call", account_id=account.pk)
    client = api.as_user(rep)
    assert client.get(f"{URL}{theirs['id']}/").status_code == 200
    assert client.delete(f"{URL}{theirs['id']}/").status_code == 403
    assert client.delete(f"{URL}{mine['id']}/").status_code == 204
    assert backend.get(mine["id"]) is None and backend.get(theirs["id"]) is not None


def test_a_link_kind_no_app_registered_is_an_error_not_a_skip(sql_store, rep, monkeypatch):
    monkeypatch.delitem(links._links, "lead")
    with pytest.raises(ImproperlyConfigured):
        services.activity_log(actor=rep, type="call", lead_id=1)
    with pytest.raises(ImproperlyConfigured):
        selectors.activity_list(user=rep)
    assert [e.id for e in checks.registrations_check()] == ["activities.E001"]


def test_a_history_no_app_registered_is_an_error_not_an_empty_section(sql_store, rep, monkeypatch):
    deal = OpportunityFactory(owner=rep)
    monkeypatch.setitem(timeline._providers, "opportunity", [])
    with pytest.raises(ImproperlyConfigured):
        timeline.timeline(user=rep, kind="opportunity", record_id=deal.pk)
    assert [e.id for e in checks.registrations_check()] == ["activities.E002"]


def test_every_link_kind_and_history_is_registered_at_start_up():
    assert checks.registrations_check() == []


def test_inactive_users_see_no_activities(sql_store, manager):
    # Given a task a manager gave a rep who then left
    gone = UserFactory(role="sales_rep", manager=manager)
    services.activity_log(actor=manager, type="task", subject="theirs", user_id=gone.pk)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert not Activity.objects.restrict(gone).exists()
    assert sql_store.find(links.access_cond(gone)) == []
