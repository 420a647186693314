"""Who owns a new lead, whom a lead may be given to, and the events that say what changed (issue 12)."""

import pytest
from auditlog.models import LogEntry

from leads import services
from leads.dedup import lead_find_by_email
from leads.models import Lead
from opportunities.models import Account
from salesapp import imports
from salesapp.models import OutboxEvent
from tests.leads.factories import LeadFactory, make_territory
from tests.opportunities.factories import AccountFactory
from tests.salesapp.factories import UserFactory

CA = {"country": "US", "state": "CA", "postal_code": "94105", "industry": "technology"}


def _events(name: str) -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(name=name).order_by("created_at", "id")]


# --- a rep's new lead stays theirs ----------------------------------------------------------------

@pytest.mark.django_db
def test_rep_creates_a_lead_through_the_api_and_owns_it_filed_under_its_territory(rep, jane, api):
    # Given a territory the rep is not a member of, whose round-robin would hand the lead to Jane
    west = make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    client = api.as_user(rep)
    # When the rep creates a lead in it naming no owner
    response = client.post("/api/v1/leads/", {"email": "ann@acme.example", "first_name": "Ann", **CA})
    # Then the rep owns it, it lies in the matched territory, and the reason says both
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["assigned_to"], body["territory_id"], body["queue"]) == (rep.pk, west.pk, "")
    assert body["assignment_reason"].startswith(f"created by {rep.get_full_name()}; territory US West Tech: ")
    assert "state CA" in body["assignment_reason"]
    # and the rep lands on it
    assert client.get(f"/api/v1/leads/{body['id']}/").json()["assigned_to"] == rep.pk


@pytest.mark.django_db
def test_rep_creates_a_lead_through_the_form_and_lands_on_its_page(rep, jane, client):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    client.force_login(rep)
    response = client.post("/leads/new/", {"email": "bo@acme.example", "first_name": "Bo", "last_name": "Lind", **CA},
                           follow=True)
    lead = Lead.objects.get()
    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    page = response.content.decode()
    assert "Bo Lind" in page and "US West Tech" in page
    assert f"created by {rep.get_full_name()}; territory US West Tech" in page
    assert lead.assigned_to == rep and lead.territory.name == "US West Tech"


@pytest.mark.django_db
def test_rep_who_asks_for_routing_is_told_where_the_lead_went_instead_of_a_404(rep, jane, client):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    client.force_login(rep)
    response = client.post("/leads/new/", {"email": "cy@acme.example", "route": "on", **CA}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/leads/"
    assert "It went to Jane West, so you no longer see it." in response.content.decode()
    assert Lead.objects.get().assigned_to == jane


@pytest.mark.django_db
def test_rep_may_ask_the_api_to_route_but_not_while_naming_an_owner(rep, jane, api):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    client = api.as_user(rep)
    body = client.post("/api/v1/leads/", {"email": "di@acme.example", "route": True, **CA}).json()
    assert body["assigned_to"] == jane.pk and "round-robin" in body["assignment_reason"]
    response = client.post("/api/v1/leads/", {"email": "ed@acme.example", "route": True, "assigned_to": rep.pk})
    assert response.status_code == 400
    assert "route" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_leads_without_an_owner_from_managers_and_imports_are_still_routed(manager, jane, api):
    make_territory("US West Tech", members=[jane], states=["CA"], industry="technology")
    body = api.as_user(manager).post("/api/v1/leads/", {"email": "fay@acme.example", **CA}).json()
    assert body["assigned_to"] == jane.pk
    content = b"email,country,state,industry\ngus@acme.example,US,CA,technology\n"
    job = imports.import_job_run(imports.import_job_create(actor=manager, kind="leads", content=content).pk)
    assert job.status == "succeeded", job.errors
    assert lead_find_by_email("gus@acme.example").assigned_to == jane


# --- whom a lead may be given to ------------------------------------------------------------------

@pytest.mark.django_db
def test_rep_may_not_give_a_new_lead_to_another_teams_rep(rep, other_rep, api):
    response = api.as_user(rep).post("/api/v1/leads/", {"email": "hal@acme.example", "assigned_to": other_rep.pk})
    assert response.status_code == 400
    assert "assigned_to" in response.json()["error"]["fields"]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_rep_may_not_file_a_lead_under_a_territory_they_cannot_see(rep, other_rep, api):
    theirs = make_territory("East", members=[other_rep], states=["NY"])
    response = api.as_user(rep).post("/api/v1/leads/", {"email": "ida@acme.example", "territory_id": theirs.pk})
    assert response.status_code == 400
    assert "territory_id" in response.json()["error"]["fields"]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_manager_may_assign_within_their_subtree_only(manager, rep, other_rep, api):
    client = api.as_user(manager)
    response = client.post("/api/v1/leads/", {"email": "jo@acme.example", "assigned_to": rep.pk})
    assert response.status_code == 201, response.content
    assert response.json()["assigned_to"] == rep.pk
    assert f"assigned to {rep.get_full_name()} by {manager.get_full_name()}" in response.json()["assignment_reason"]
    response = client.post("/api/v1/leads/", {"email": "kim@acme.example", "assigned_to": other_rep.pk})
    assert response.status_code == 400
    assert "assigned_to" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_read_only_users_are_never_given_leads(admin_user, viewer, api):
    response = api.as_user(admin_user).post("/api/v1/leads/", {"email": "lu@acme.example", "assigned_to": viewer.pk})
    assert response.status_code == 400
    assert "assigned_to" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_rep_editing_a_territory_colleagues_lead_keeps_its_owner_but_cannot_move_it(jane, raj, api):
    west = make_territory("West", members=[jane, raj], states=["CA"])
    lead = LeadFactory(assigned_to=raj, territory=west)
    client = api.as_user(jane)
    response = client.put(f"/api/v1/leads/{lead.pk}/", {"email": lead.email, "title": "CFO", "assigned_to": raj.pk,
                                                        "territory_id": west.pk})
    assert response.status_code == 200, response.content
    response = client.patch(f"/api/v1/leads/{lead.pk}/", {"assigned_to": jane.pk})
    assert response.status_code == 200  # a rep may take it themselves
    response = client.post(f"/api/v1/leads/{lead.pk}/assign/", {"assigned_to": raj.pk})
    assert response.status_code == 400
    assert "assigned_to" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_new_lead_form_offers_only_whom_the_rep_may_give_it_to(rep, other_rep, client):
    client.force_login(rep)
    page = client.get("/leads/new/").content.decode()
    assert f'value="{rep.pk}"' in page and other_rep.email not in page
    page = client.post("/leads/new/", {"email": "mo@acme.example", "assigned_to": other_rep.pk}).content.decode()
    assert "Select a valid choice" in page
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_bulk_assign_outside_the_subtree_changes_nothing(manager, other_rep, client):
    leads = LeadFactory.create_batch(2, assigned_to=manager)
    client.force_login(manager)
    response = client.post("/leads/bulk/", {"ids": [lead.pk for lead in leads], "action": "assign",
                                            "owner": other_rep.pk}, follow=True)
    assert "Choose the user to assign the leads to." in response.content.decode()
    assert set(Lead.objects.values_list("assigned_to", flat=True)) == {manager.pk}


@pytest.mark.django_db
def test_import_refuses_an_owner_outside_the_importers_subtree(manager, other_rep):
    content = b"email,owner_email\nned@acme.example,other.rep@test.example\n"
    job = imports.import_job_run(imports.import_job_create(actor=manager, kind="leads", content=content).pk)
    assert job.status == "failed"
    assert job.errors == [{"row": 2, "column": "owner_email",
                           "message": "You can give records only to yourself or people who report to you."}]


# --- events tell the truth ------------------------------------------------------------------------

@pytest.mark.django_db
def test_lead_updated_names_the_changed_fields_only_and_is_silent_when_nothing_changed(rep, api):
    lead = services.lead_create(actor=rep, email="ola@acme.example", company="Acme", title="CTO")
    client = api.as_user(rep)
    response = client.patch(f"/api/v1/leads/{lead.pk}/", {"title": "CEO", "company": "Acme", "email": lead.email})
    assert response.status_code == 200
    assert [(e["lead_id"], e["fields"]) for e in _events("lead.updated")] == [(lead.pk, ["title"])]
    client.patch(f"/api/v1/leads/{lead.pk}/", {"title": "CEO", "company": "Acme"})
    assert len(_events("lead.updated")) == 1


@pytest.mark.django_db
def test_saving_the_edit_form_unchanged_publishes_nothing(rep, client):
    lead = services.lead_create(actor=rep, email="pia@acme.example", company="Acme")
    client.force_login(rep)
    response = client.post(f"/leads/{lead.pk}/edit/", {"email": "pia@acme.example", "company": "Acme",
                                                       "assigned_to": rep.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    assert _events("lead.updated") == []


@pytest.mark.django_db
def test_import_update_and_merge_publish_lead_updated(manager, rep):
    lead = LeadFactory(email="quin@acme.example", company="", assigned_to=rep)
    content = b"email,company\nquin@acme.example,Quinn Co\n"
    imports.import_job_run(imports.import_job_create(actor=manager, kind="leads", content=content).pk)
    assert _events("lead.updated")[-1]["fields"] == ["company"]
    other = LeadFactory(email="quin2@acme.example", phone="+1 555 0100", assigned_to=rep)
    services.lead_merge(actor=manager, target=lead, other=other)
    by_lead = {e["lead_id"]: e["fields"] for e in _events("lead.updated")}
    assert "phone" in by_lead[lead.pk] and by_lead[other.pk] == ["merged_into"]


@pytest.mark.django_db
def test_deleting_a_lead_publishes_lead_deleted(manager, rep, api):
    lead = LeadFactory(assigned_to=rep, email="rae@acme.example")
    assert api.as_user(manager).delete(f"/api/v1/leads/{lead.pk}/").status_code == 204
    (event,) = _events("lead.deleted")
    assert (event["lead_id"], event["assigned_to"]) == (lead.pk, rep.pk)
    assert "email" not in event  # outbox rows are kept: no personal data in them


@pytest.mark.django_db
def test_bulk_assign_publishes_and_audits_each_lead(manager, rep, client):

    leads = LeadFactory.create_batch(3, assigned_to=manager)
    client.force_login(manager)
    client.post("/leads/bulk/", {"ids": [lead.pk for lead in leads], "action": "assign", "owner": rep.pk})
    assert sorted(e["lead_id"] for e in _events("lead.assigned")) == sorted(lead.pk for lead in leads)
    assert all("assigned_to" in e["fields"] for e in _events("lead.updated"))
    updates = LogEntry.objects.get_for_objects(Lead.objects.all()).filter(action=LogEntry.Action.UPDATE)
    assert sorted(int(e.object_pk) for e in updates if "assigned_to" in e.changes_dict) == sorted(lead.pk for lead in leads)


# --- parent access -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_whoever_sees_a_converted_lead_reads_its_account(rep, other_rep):
    account = AccountFactory(owner=UserFactory(role="admin"))
    LeadFactory(assigned_to=rep, status="converted", converted_account=account)
    assert Account.objects.restrict(rep, "view").filter(pk=account.pk).exists()
    assert not Account.objects.restrict(rep, "change").filter(pk=account.pk).exists()
    assert not Account.objects.restrict(other_rep, "view").filter(pk=account.pk).exists()
