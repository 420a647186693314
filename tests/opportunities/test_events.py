"""Events tell the truth: each write publishes what happened, under its own name, and nothing when nothing changed."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from opportunities.models import Opportunity
from salesapp.models import OutboxEvent
from tests.opportunities.factories import AccountFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def published(*names):
    return [(e.name, e.payload) for e in OutboxEvent.objects.filter(name__in=names).order_by("created_at", "id")]


def deal_events():
    return published("opportunity.created", "opportunity.updated", "opportunity.stage_changed",
                     "opportunity.deleted", "opportunity.won", "opportunity.lost", "opportunity.reopened")


def test_owner_and_amount_changes_publish_updated_naming_the_fields_not_a_stage_change(api, manager, rep):
    # Given a deal of the manager's
    deal = OpportunityFactory(owner=manager, amount=1000)
    OutboxEvent.objects.all().delete()
    # When the manager gives it to their rep and changes the amount
    response = api.as_user(manager).patch(f"/api/v1/opportunities/{deal.pk}/",
                                          {"owner_id": rep.pk, "amount": "2500.00"}, format="json")
    # Then one opportunity.updated names exactly those fields, and no stage change is claimed
    assert response.status_code == 200, response.json()
    events = deal_events()
    assert [name for name, _ in events] == ["opportunity.updated"]
    payload = events[0][1]
    assert sorted(payload["fields"]) == ["amount", "owner"]
    assert (payload["opportunity_id"], payload["owner_id"], payload["amount"], payload["stage"]) == (
        deal.pk, rep.pk, "2500.00", "discovery")


def test_saving_a_deal_unchanged_publishes_nothing(api, rep):
    deal = OpportunityFactory(owner=rep)
    client = api.as_user(rep)
    body = client.get(f"/api/v1/opportunities/{deal.pk}/").json()
    OutboxEvent.objects.all().delete()
    response = client.put(f"/api/v1/opportunities/{deal.pk}/", body, format="json")
    assert response.status_code == 200, response.json()
    assert deal_events() == []


def test_a_stage_move_publishes_stage_changed_only(api, rep):
    deal = OpportunityFactory(owner=rep)
    OutboxEvent.objects.all().delete()
    response = api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"stage": "proposal"}, format="json")
    assert response.status_code == 200
    events = deal_events()
    assert [name for name, _ in events] == ["opportunity.stage_changed"]
    assert (events[0][1]["from_stage"], events[0][1]["to_stage"], events[0][1]["probability"]) == (
        "discovery", "proposal", 50)


def test_a_stage_move_with_a_new_close_date_publishes_both(api, rep):
    deal = OpportunityFactory(owner=rep)
    OutboxEvent.objects.all().delete()
    api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/",
                           {"stage": "negotiation", "expected_close_date": "2026-11-30"}, format="json")
    events = dict(deal_events())
    assert events["opportunity.stage_changed"]["to_stage"] == "negotiation"
    assert events["opportunity.updated"]["fields"] == ["expected_close_date"]


def test_a_hand_set_probability_is_an_update_with_its_category(api, rep):
    deal = OpportunityFactory(owner=rep)  # discovery, 10 %, pipeline
    OutboxEvent.objects.all().delete()
    api.as_user(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"probability": 80}, format="json")
    (name, payload), = deal_events()
    assert name == "opportunity.updated"
    assert sorted(payload["fields"]) == ["forecast_category", "probability", "probability_is_manual"]
    assert payload["forecast_category"] == "commit"


def test_delete_publishes_deleted_never_stage_changed(api, manager, rep):
    deal = OpportunityFactory(owner=rep, amount=4200)
    OutboxEvent.objects.all().delete()
    assert api.as_user(manager).delete(f"/api/v1/opportunities/{deal.pk}/").status_code == 204
    events = deal_events()
    assert [name for name, _ in events] == ["opportunity.deleted"]
    assert (events[0][1]["opportunity_id"], events[0][1]["owner_id"], events[0][1]["stage"],
            events[0][1]["amount"]) == (deal.pk, rep.pk, "discovery", "4200.00")


def test_pipeline_summary_follows_an_amount_change_at_once(api, rep, django_capture_on_commit_callbacks):
    # Given a cached pipeline summary
    with django_capture_on_commit_callbacks(execute=True):
        deal = OpportunityFactory(owner=rep, amount=1000)
    client = api.as_user(rep)
    assert client.get("/api/v1/pipeline/summary/").json()["total_amount"] == "1000.00"
    assert client.get("/api/v1/pipeline/summary/").json()["cached"] is True
    # When only the amount changes (opportunity.updated)
    with django_capture_on_commit_callbacks(execute=True):
        client.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "3000"}, format="json")
    # Then the next summary shows it
    summary = client.get("/api/v1/pipeline/summary/").json()
    assert (summary["cached"], summary["total_amount"]) == (False, "3000.00")


def test_account_events_created_updated_deleted(api, rep, manager):
    client = api.as_user(rep)
    created = client.post("/api/v1/accounts/", {"name": "Initech", "billing_country": "US"}, format="json").json()
    aid = created["id"]
    assert published("account.created") == [("account.created", {"account_id": aid, "owner_id": rep.pk,
                                                                 "territory_id": None})]
    client.patch(f"/api/v1/accounts/{aid}/", {"industry": "software", "name": "Initech"}, format="json")
    client.patch(f"/api/v1/accounts/{aid}/", {"industry": "software"}, format="json")  # no change
    updates = published("account.updated")
    assert [p["fields"] for _, p in updates] == [["industry"]]
    assert api.as_user(manager).delete(f"/api/v1/accounts/{aid}/").status_code == 204
    assert [p["account_id"] for _, p in published("account.deleted")] == [aid]


def test_contact_events_created_updated_deleted(api, rep):
    account = AccountFactory(owner=rep)
    client = api.as_user(rep)
    contact = client.post("/api/v1/contacts/", {"account_id": account.pk, "last_name": "Doe"}, format="json").json()
    cid = contact["id"]
    client.patch(f"/api/v1/contacts/{cid}/", {"title": "CTO", "last_name": "Doe"}, format="json")
    client.patch(f"/api/v1/contacts/{cid}/", {"title": "CTO"}, format="json")  # no change
    assert client.delete(f"/api/v1/contacts/{cid}/").status_code == 204
    events = published("contact.created", "contact.updated", "contact.deleted")
    assert [(name, p["contact_id"], p["account_id"]) for name, p in events] == [
        ("contact.created", cid, account.pk), ("contact.updated", cid, account.pk), ("contact.deleted", cid, account.pk)]
    assert events[1][1]["fields"] == ["title"]


def test_bulk_stage_move_publishes_and_audits_each_deal(api, rep):
    deals = [OpportunityFactory(owner=rep) for _ in range(3)]
    OutboxEvent.objects.all().delete()
    LogEntry.objects.all().delete()
    response = api.as_user(rep).post("/api/v1/opportunities/bulk-stage/",
                                     {"ids": [d.pk for d in deals], "stage": "negotiation"}, format="json")
    assert sorted(response.json()["updated"]) == sorted(d.pk for d in deals)
    events = deal_events()
    assert {(n, p["opportunity_id"], p["to_stage"]) for n, p in events} == {
        ("opportunity.stage_changed", d.pk, "negotiation") for d in deals}
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity))
    assert sorted(int(e.object_pk) for e in entries) == sorted(d.pk for d in deals)
    assert all(e.changes["stage"] == ["discovery", "negotiation"] and e.actor == rep for e in entries)


def test_bulk_stage_move_to_a_closed_stage_answers_400_naming_stage(api, rep):
    deal = OpportunityFactory(owner=rep)
    response = api.as_user(rep).post("/api/v1/opportunities/bulk-stage/",
                                     {"ids": [deal.pk], "stage": "closed_won"}, format="json")
    assert response.status_code == 400
    assert "stage" in response.json()["error"]["fields"]


def test_import_publishes_each_created_record(admin_user):
    from salesapp import imports

    owner = UserFactory(role="sales_rep", email="seller@test.example")
    csv = (b"name,billing_country,owner_email\nUmbrella,US,seller@test.example\n")
    job = imports.import_job_run(imports.import_job_create(actor=admin_user, kind="accounts", content=csv).pk)
    assert job.status == "succeeded", job.errors
    assert [p["owner_id"] for _, p in published("account.created")] == [owner.pk]
