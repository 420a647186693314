"""The search page, the top bar's as-you-type suggestions, and the same answers from the database."""

import re

import pytest
from django.db import connection

from leads import services as leads
from opportunities.services import accounts, contacts, deals

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "elasticsearch"])
def engine(request):
    if request.param == "elasticsearch":
        request.getfixturevalue("search_on")
    return request.param


@pytest.fixture
def records(admin_user, rep, delivered):
    with delivered():
        lead = leads.lead_create(actor=admin_user, first_name="Katherine", last_name="Johnson",
                                 company="Langley Research", email="katherine@langley.example", assigned_to=rep)
        account = accounts.account_create(actor=admin_user, name="Langley Aeronautics", owner=rep)
        contact = contacts.contact_create(actor=admin_user, account=account, first_name="Dorothy",
                                          last_name="Langley", email="dorothy@langley.example")
        deal = deals.opportunity_create(actor=admin_user, account=account, name="Langley wind tunnel", owner=rep)
    return {"lead": lead, "account": account, "contact": contact, "deal": deal}


def test_the_top_bar_has_the_search_box_and_suggests_records_grouped_by_kind(engine, client, rep, records):
    client.force_login(rep)
    home = client.get("/").content.decode()
    assert re.search(r'<input id="global-search" type="search" name="q"', home)
    assert "/static/js/search.js" in home and "<script>" not in home  # no inline script

    fragment = client.get("/search/suggest/", {"q": "langley"}).content.decode()
    links = re.findall(r'<a class="dropdown-item search-suggestion" href="([^"]+)" data-kind="(\w+)"', fragment)
    assert sorted(links) == sorted([
        (f"/leads/{records['lead'].pk}/", "lead"), (f"/accounts/{records['account'].pk}/", "account"),
        (f"/contacts/{records['contact'].pk}/", "contact"), (f"/opportunities/{records['deal'].pk}/", "deal")])
    for label in ("Leads", "Accounts", "Contacts", "Deals"):
        assert f'<h6 class="dropdown-header">{label}</h6>' in fragment
    assert "<em>" in fragment
    assert client.get("/search/suggest/", {"q": ""}).content == b""


def test_the_search_page_shows_hits_and_facets_that_narrow(engine, client, rep, records):
    client.force_login(rep)
    page = client.get("/search/", {"q": "langley"}).content.decode()
    assert "4 results" in page
    assert 'data-facet="kind"' in page and 'data-facet="created"' in page
    narrowed = client.get("/search/", {"q": "langley", "kind": "lead"}).content.decode()
    assert "1 result " in narrowed and f'href="/leads/{records["lead"].pk}/"' in narrowed
    assert client.get("/search/", {"q": "x", "kind": "spaceship"}).status_code == 400


def test_the_api_answers_the_same_shape_on_either_engine(engine, api, rep, records):
    body = api.as_user(rep).get("/api/v1/search/", {"q": "katherin"}).json()
    assert set(body) == {"query", "backend", "total", "page", "page_size", "next_page", "results", "facets"}
    assert set(body["facets"]) == {"kind", "status", "stage", "owner", "territory", "created"}
    if engine == "database":
        assert body["backend"] in ("database", "postgresql")
        body = api.get("/api/v1/search/", {"q": "katherine"}).json()  # the database does not forgive typos
    hit = body["results"][0]
    assert set(hit) == {"kind", "id", "title", "subtitle", "url", "highlight", "score", "email", "company", "status",
                        "owner_id", "territory_id", "created_at"}
    assert (hit["kind"], hit["id"], hit["title"]) == ("lead", records["lead"].pk, "Katherine Johnson")
    assert "<em>Katherine</em>" in hit["highlight"]["name"]
    assert body["facets"]["status"] == [{"value": "new", "label": "New", "count": 1}]
    assert body["facets"]["owner"] == [{"value": rep.pk, "label": str(rep), "count": 1}]

    fields = api.get("/api/v1/search/", {"q": "email:dorothy@langley.example"}).json()
    assert [(r["kind"], r["id"]) for r in fields["results"]] == [("contact", records["contact"].pk)]
    company = api.get("/api/v1/search/", {"q": "company:langley", "kind": "contact,deal"}).json()
    assert {r["kind"] for r in company["results"]} == {"contact", "deal"}
    paged = api.get("/api/v1/search/", {"q": "langley", "page_size": 3}).json()
    assert (paged["total"], len(paged["results"]), paged["next_page"]) == (4, 3, 2)
    rest = api.get("/api/v1/search/", {"q": "langley", "page_size": 3, "page": 2}).json()
    assert len(rest["results"]) == 1 and rest["next_page"] is None
    assert {(r["kind"], r["id"]) for r in paged["results"] + rest["results"]} == {
        (kind, record.pk) for kind, record in records.items()}


def test_bad_parameters_are_a_400_naming_the_field(api, rep):
    api.as_user(rep)
    for params, field in (({"kind": "spaceship"}, "kind"), ({"owner": "me"}, "owner"),
                          ({"created": "yesterday"}, "created"), ({"page_size": 500}, "page_size"),
                          ({"page": 10_000}, "page")):
        response = api.get("/api/v1/search/", {"q": "x", **params})
        assert response.status_code == 400 and field in response.json()["error"]["fields"], params


def test_each_list_api_takes_search(engine, api, rep, records):
    api.as_user(rep)
    for url, kind in (("/api/v1/leads/", "lead"), ("/api/v1/contacts/", "contact"),
                      ("/api/v1/accounts/", "account"), ("/api/v1/opportunities/", "deal")):
        ids = [row["id"] for row in api.get(url, {"search": "langley"}).json()["results"]]
        assert ids == [records[kind].pk], url
        assert api.get(url, {"search": "zzqqxx"}).json()["results"] == [], url


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text and trigram indexes are PostgreSQL's")
def test_postgres_has_the_search_indexes_of_accounts_contacts_and_deals():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm' OR indexname LIKE '%%_fts_gin'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"account_search_fts_gin", "contact_search_fts_gin", "account_name_trgm", "opportunity_name_trgm"} <= names
    # emails and phones are encrypted at rest (found whole, by their blind index): no trigram index on ciphertext
    assert not {"contact_email_trgm", "contact_phone_trgm"} & names
