"""Access inside the search: whatever the engine, a user's hits, total and every facet count are exactly what
their restricted lists show for the same filter (the leak test), over the API and the search page."""

from datetime import timedelta

import pytest

from salesapp.search_kinds import created_ranges
from tests.search.world import build_world

pytestmark = pytest.mark.django_db

LISTS = {"lead": "/api/v1/leads/", "contact": "/api/v1/contacts/", "account": "/api/v1/accounts/",
         "deal": "/api/v1/opportunities/"}
# The list API's parameter for each facet, per kind (a kind without the facet never matches it).
LIST_PARAMS = {
    "lead": {"status": "status", "owner": "assigned_to", "territory": "territory_id"},
    "contact": {"owner": "owner"},
    "account": {"owner": "owner", "territory": "territory"},
    "deal": {"stage": "stage", "owner": "owner", "territory": "territory_id"},
}
ONE_MICROSECOND = timedelta(microseconds=1)


def _listed(api, kind, params) -> set[int]:
    """Every id the kind's restricted list API answers for `params`, page after page."""
    ids, url, query = set(), LISTS[kind], {**params, "page_size": 200}
    while url:
        body = api.get(url, query).json()
        ids |= {row["id"] for row in body["results"]}
        url, query = body["next"], None
    return ids


def _created_params(kind, key) -> dict:
    start, end = created_ranges()[key]
    params = {"created_after": start.isoformat()} if start else {}
    if end:  # the leads' list filter is inclusive, the others' exclusive
        params["created_before"] = (end - ONE_MICROSECOND if kind == "lead" else end).isoformat()
    return params


def _list_count(api, facet, value, text) -> int:
    total = 0
    for kind, params in LIST_PARAMS.items():
        if facet == "created":
            total += len(_listed(api, kind, {"search": text, **_created_params(kind, value)}))
        elif facet in params:
            total += len(_listed(api, kind, {"search": text, params[facet]: value}))
    return total


@pytest.fixture(params=["database", "elasticsearch"])
def engine(request):
    if request.param == "elasticsearch":
        request.getfixturevalue("search_on")
    return request.param


def test_every_hit_total_and_facet_count_is_what_the_restricted_lists_show(engine, api, client, delivered):
    with delivered():
        people = build_world()

    for user in people.values():
        api.as_user(user)
        answer = api.get("/api/v1/search/", {"q": "orbit", "page_size": 100}).json()
        assert answer["backend"] == ("elasticsearch" if engine == "elasticsearch" else answer["backend"])
        listed = {kind: _listed(api, kind, {"search": "orbit"}) for kind in LISTS}
        who = f"{user.email} on {engine}"
        # the hits are exactly the listed records, and the total their number
        assert {(r["kind"], r["id"]) for r in answer["results"]} == {
            (kind, pk) for kind, ids in listed.items() for pk in ids}, who
        assert answer["total"] == sum(len(ids) for ids in listed.values()), who
        assert {b["value"]: b["count"] for b in answer["facets"]["kind"]} == {
            kind: len(ids) for kind, ids in listed.items() if ids}, who
        # every facet count is the lists' count for that filter, and filtering by it answers that many
        for facet in ("status", "stage", "owner", "territory", "created"):
            for bucket in answer["facets"][facet]:
                expected = _list_count(api, facet, bucket["value"], "orbit")
                assert bucket["count"] == expected, f"{who}: {facet}={bucket['value']}"
                narrowed = api.get("/api/v1/search/", {"q": "orbit", facet: bucket["value"]}).json()
                assert narrowed["total"] == expected, f"{who}: {facet}={bucket['value']}"
        # the search page says the same
        client.force_login(user)
        page = client.get("/search/", {"q": "orbit"}).content.decode()
        assert f"{answer['total']} result" in page, who

    # and the rep's view is what the rule says: their own, their territory's, shared and parent-access records
    api.as_user(people["rep"])
    names = {r["title"] for r in api.get("/api/v1/search/", {"q": "orbit", "page_size": 100}).json()["results"]}
    assert {"Ola Orbit1", "Ola Orbit4", "Ola Orbit6", "Orbit Beta", "Orbit Delta", "Orbit pilot"} <= names
    assert not names & {"Ola Orbit3", "Ola Orbit5", "Ola Orbit7", "Orbit Gamma", "Orbit expansion"}
