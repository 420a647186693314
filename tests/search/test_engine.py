"""Search on a running search server: indexing by events, typos, prefixes, highlights, facets, deletes."""

import time

import pytest

from salesapp.search import SearchRequest, search_records

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
