"""Search on a running search server: indexing by events, typos, prefixes, highlights, facets, deletes."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from leads import services as leads
from leads.models import Lead
from opportunities.models import Account
from opportunities.services import accounts, contacts, deals
from salesapp import events, search_engine
from salesapp.models import OutboxEvent
from salesapp.search import SearchRequest, search_records
from salesapp.search_kinds import search_kind
from tests.leads.factories import LeadFactory, make_territory

pytestmark = pytest.mark.django_db


def _search(user, text, **kw):
    return search_records(user=user, request=SearchRequest(text=text, **kw))


def test_a_lead_created_through_the_api_is_found_by_typos_and_prefixes_with_highlights(
        search_on, settings, api, rep, delivered):
    settings.ELASTICSEARCH_REFRESH = "false"  # searchable through the index's own refresh, as in production
    with delivered():
        created = api.as_user(rep).post("/api/v1/leads/", {
            "first_name": "Katherine", "last_name": "Johnson", "company": "Langley Research",
            "email": "katherine.johnson@langley.example"}, format="json")
    assert created.status_code == 201, created.content
    lead_id = created.json()["id"]

    # Within 2 s of the commit, both searches find it (polled: the index refreshes on its own clock).
    found, deadline = {}, time.monotonic() + 2.0
    while time.monotonic() < deadline:
        found = {text: api.get("/api/v1/search/", {"q": text}).json() for text in ("katherin", "jonson langly")}
        if all(body["total"] for body in found.values()):
            break
        time.sleep(0.05)

    for text in ("katherin", "jonson langly"):
        body = found[text]
        assert body["backend"] == "elasticsearch"
        assert [(r["kind"], r["id"]) for r in body["results"]] == [("lead", lead_id)], text
        assert body["total"] == 1
        assert body["facets"]["kind"] == [{"value": "lead", "label": "Leads", "count": 1}]
        assert body["facets"]["status"] == [{"value": "new", "label": "New", "count": 1}]
    assert "<em>" in found["katherin"]["results"][0]["highlight"]["name"]
    assert "<em>Johnson</em>" in found["jonson langly"]["results"][0]["highlight"]["name"]
    assert found["jonson langly"]["results"][0]["url"] == f"/leads/{lead_id}/"


def _lead(actor, first_name, last_name, company, **fields):
    return leads.lead_create(actor=actor, first_name=first_name, last_name=last_name, company=company,
                             email=fields.pop("email", f"{first_name}.{last_name}.{uuid.uuid4().hex[:6]}@x.example"),
                             **fields)


def _ids(answer, kind=None):
    return [r["id"] for r in answer["results"] if kind is None or r["kind"] == kind]


def test_deleting_the_lead_removes_it_from_search(search_on, api, admin_user, delivered):
    with delivered():
        lead_id = api.as_user(admin_user).post("/api/v1/leads/", {
            "first_name": "Katherine", "last_name": "Johnson", "company": "Langley Research",
            "email": "kj@langley.example"}, format="json").json()["id"]
    assert _ids(api.get("/api/v1/search/", {"q": "katherin"}).json()) == [lead_id]

    with delivered():
        assert api.delete(f"/api/v1/leads/{lead_id}/").status_code == 204

    answer = api.get("/api/v1/search/", {"q": "katherin"}).json()
    assert answer["total"] == 0 and answer["results"] == []


def test_signals_never_index_only_events_do(search_on, admin_user):
    # A row written straight to the table (no service, so no event) is not in the index...
    lead = LeadFactory(first_name="Grace", last_name="Hopper", company="Eckert Mauchly")
    assert _search(admin_user, "hopper")["total"] == 0
    # ...until an event names it (here the consumer applied by hand, as the worker would)
    events.deliver({"id": str(uuid.uuid4()), "name": "lead.updated",
                    "payload": {"lead_id": lead.pk, "fields": ["last_name"]}, "created_at": ""})
    assert _ids(_search(admin_user, "hopper")) == [lead.pk]


def test_accounts_contacts_and_deals_are_indexed_by_their_events(search_on, admin_user, rep, delivered):
    with delivered():
        account = accounts.account_create(actor=admin_user, name="Ångström Optics", owner=rep, industry="Photonics")
        contact = contacts.contact_create(actor=admin_user, account=account, first_name="Zoë", last_name="Quill",
                                          email="zoe.quill@angstrom.example", phone="+46 (555) 01-01")
        deal = deals.opportunity_create(actor=admin_user, account=account, name="Lens renewal", owner=rep)

    assert {(r["kind"], r["id"]) for r in _search(admin_user, "angstrom")["results"]} == {
        ("account", account.pk), ("contact", contact.pk), ("deal", deal.pk)}  # accents folded
    assert _ids(_search(admin_user, "zoe"), "contact") == [contact.pk]
    assert _ids(_search(admin_user, "555 0101")) == [contact.pk]  # a phone by its digits
    assert _ids(_search(admin_user, "5550101")) == [contact.pk]
    assert _ids(_search(admin_user, "email:zoe.quill@angstrom.example")) == [contact.pk]
    assert set(_ids(_search(admin_user, "company:angstrom", kinds=("contact", "deal")))) == {contact.pk, deal.pk}
    assert _search(admin_user, "lens renewal", kinds=("deal",))["results"][0]["url"] == f"/opportunities/{deal.pk}/"
    assert _search(admin_user, "quill")["results"][0]["url"] == f"/contacts/{contact.pk}/"

    # An account's rename rewrites its contacts and deals, which show its name
    with delivered():
        accounts.account_update(actor=admin_user, account=account, name="Brightline Optics")
    assert {r["kind"] for r in _search(admin_user, "company:brightline")["results"]} == {"account", "contact", "deal"}
    assert _search(admin_user, "company:angstrom")["total"] == 0

    # Deleting the account takes its contacts out of the index too
    with delivered():
        deals.opportunity_delete(actor=admin_user, opportunity=deal)
        accounts.account_delete(actor=admin_user, account=Account.objects.get(pk=account.pk))
    assert _search(admin_user, "brightline")["total"] == 0
    assert _search(admin_user, "quill")["total"] == 0


def test_typing_finds_by_prefix_and_exact_hits_rank_first(search_on, admin_user, delivered):
    with delivered():
        exact = _lead(admin_user, "Ada", "Lovelace", "Analytical", email="ada@analytical.example")
        near = _lead(admin_user, "Adam", "Lovelaces", "Engines", email="adam@engines.example")
    assert set(_ids(_search(admin_user, "lovel"))) == {exact.pk, near.pk}  # as you type
    assert set(_ids(_search(admin_user, "lovelac"))) == {exact.pk, near.pk}
    assert _ids(_search(admin_user, "ada lovelace"))[0] == exact.pk  # the exact name first
    assert _ids(_search(admin_user, "adam@engines.example"))[0] == near.pk  # the exact email first
    assert _search(admin_user, '"ada lovelace"')["total"] == 1  # a phrase


def test_recent_activity_ranks_higher_among_equal_hits(search_on, admin_user, delivered):
    with delivered():
        quiet, busy = _lead(admin_user, "Mary", "Jackson", "Wind Tunnel"), _lead(admin_user, "Mary", "Jackson",
                                                                                     "Wind Tunnel")
    Lead.objects.filter(pk=quiet.pk).update(last_activity_at=timezone.now() - timedelta(days=400))
    Lead.objects.filter(pk=busy.pk).update(last_activity_at=timezone.now() - timedelta(hours=1))
    search_engine.index_records("lead", [quiet.pk, busy.pk])
    assert _ids(_search(admin_user, "mary jackson")) == [busy.pk, quiet.pk]


def test_an_older_version_never_overwrites_a_newer_one(search_on, admin_user, delivered):
    with delivered():
        lead = _lead(admin_user, "Dorothy", "Vaughan", "FORTRAN")
    kind = search_kind("lead")
    stale = kind.doc().prepare(Lead.objects.get(pk=lead.pk))
    stale_version = search_engine.version_of(Lead.objects.get(pk=lead.pk).updated_at)
    with delivered():
        leads.lead_update(actor=admin_user, lead=Lead.objects.get(pk=lead.pk), company="West Computers")

    # A late write of what was read before the change is refused by version, not applied
    index = search_engine._indices_behind(search_engine.alias("lead"))[0]
    search_engine._bulk([{"_op_type": "index", "_index": index, "_id": str(lead.pk), "_source": stale,
                          "version": stale_version, "version_type": "external_gte"}])
    assert _ids(_search(admin_user, "company:west computers")) == [lead.pk]
    assert _search(admin_user, "company:fortran")["total"] == 0

    # A redelivered event is applied once (its receipt), and re-applying it would write the same version
    event = OutboxEvent.objects.filter(name="lead.updated", payload__lead_id=lead.pk).latest("created_at")
    assert events.deliver(events.event_dict(event)) == []
    assert search_engine.index_records("lead", [lead.pk]) == 1
    assert _ids(_search(admin_user, "company:west computers")) == [lead.pk]


def test_facets_count_status_owner_territory_and_created_period(search_on, admin_user, rep, other_rep, delivered):
    territory, iberia = make_territory("Nordics", members=[rep]), make_territory("Iberia", members=[other_rep])
    now = timezone.now()
    with delivered():
        for owner, status, days in ((rep, "new", 1), (rep, "contacted", 20), (other_rep, "new", 200),
                                    (other_rep, "new", 800)):
            _lead(admin_user, "Ingrid", "Facet", "Fjord", assigned_to=owner,
                  territory=territory if owner == rep else iberia, status=status, created_at=now - timedelta(days=days))
    facets = _search(admin_user, "fjord")["facets"]
    assert {b["value"]: b["count"] for b in facets["status"]} == {"new": 3, "contacted": 1}
    assert {b["value"]: b["count"] for b in facets["owner"]} == {rep.pk: 2, other_rep.pk: 2}
    assert [(b["value"], b["label"], b["count"]) for b in facets["territory"]] == [
        (iberia.pk, "Iberia", 2), (territory.pk, "Nordics", 2)]
    assert [(b["value"], b["count"]) for b in facets["created"]] == [("7d", 1), ("30d", 1), ("365d", 1), ("older", 1)]
    assert facets["kind"] == [{"value": "lead", "label": "Leads", "count": 4}]
    narrowed = _search(admin_user, "fjord", filters=(("status", "new"), ("created", "7d")))
    assert narrowed["total"] == 1 and narrowed["facets"]["owner"] == [
        {"value": rep.pk, "label": str(rep), "count": 1}]


def test_the_client_speaks_plain_json_to_opensearch(search_on):
    flavor = search_engine.server_flavor(search_on)
    client = search_engine.client()
    if flavor == "opensearch":
        assert client.transport.node_pool.node_class is search_engine.PlainJsonNode
    assert client.indices.create(index=f"{search_engine.alias('probe')}-1").body["acknowledged"]  # no 406


def test_plain_json_node_rewrites_only_the_compatible_with_media_types():
    sent = {}

    class Recorder(search_engine.PlainJsonNode):
        def __init__(self):
            pass

    def fake(self, method, target, body=None, headers=None, **kw):
        sent.update(headers)

    Recorder.__mro__[2].perform_request, original = fake, Recorder.__mro__[2].perform_request
    try:
        Recorder().perform_request("POST", "/_bulk", headers={
            "accept": "application/vnd.elasticsearch+json; compatible-with=8",
            "content-type": "application/vnd.elasticsearch+x-ndjson; compatible-with=8", "x-opaque-id": "a"})
    finally:
        Recorder.__mro__[2].perform_request = original
    assert sent == {"accept": "application/json", "content-type": "application/x-ndjson", "x-opaque-id": "a"}


def test_a_realigned_record_moves_territory_in_the_index(search_on, admin_user, rep, delivered):
    north, south = make_territory("North", members=[rep]), make_territory("South")
    with delivered():
        lead = _lead(admin_user, "Annie", "Easley", "Centaur", assigned_to=rep, territory=north)
        account = accounts.account_create(actor=admin_user, name="Centaur Rockets", owner=rep)
    # The realignment job moves rows in bulk and publishes one event per moved record
    Lead.objects.filter(pk=lead.pk).update(territory=south)
    Account.objects.filter(pk=account.pk).update(territory=south)
    for record_type, pk in (("leads", lead.pk), ("accounts", account.pk)):
        events.deliver({"id": str(uuid.uuid4()), "name": "territory.assignment_changed", "created_at": "",
                        "payload": {"record_type": record_type, "record_id": pk, "from_territory_id": north.pk,
                                    "to_territory_id": south.pk}})
    facets = _search(admin_user, "centaur")["facets"]
    assert facets["territory"] == [{"value": south.pk, "label": "South", "count": 2}]
