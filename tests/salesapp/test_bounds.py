"""Any input answers 400 or 404 in the one error shape, never a server error.

The rules are the kernel's (ids through the `id` converter, bounded number filters and fields, a
depth-limited JSON parser, an error handler that walks any nesting); these tests check they are
in force everywhere (walking the schema and the filtersets) and on the inputs a fuzzer found.
"""

import json

import django_filters
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions

from salesapp.api.errors import exception_handler
from salesapp.filters import BOUNDED_NUMBER_FILTERS
from tests.leads.factories import LeadFactory
from tests.opportunities.factories import OpportunityFactory

HUGE = str(2**64)


# --- the rules are everywhere --------------------------------------------------------------------------

def _unbounded_integers(schema: dict, components: dict, where: str, seen=()) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _unbounded_integers(components[name], components, f"{where}>{name}",
                                                          (*seen, name))
    if schema.get("readOnly"):
        return []
    found = []
    if schema.get("type") == "integer" and not {"minimum", "maximum"} <= set(schema):
        found.append(where)
    for name, child in schema.get("properties", {}).items():
        found += _unbounded_integers(child, components, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _unbounded_integers(schema[key], components, f"{where}[]", seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(key, []):
            found += _unbounded_integers(child, components, where, seen)
    return found


@pytest.mark.django_db
def test_every_integer_the_api_takes_is_bounded():
    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]
    unbounded = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded_integers(parameter.get("schema", {}), components,
                                                 f"{method} {path} ?{parameter['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                unbounded += _unbounded_integers(body["schema"], components, f"{method} {path} body")

    assert unbounded == []


def _filtersets():
    pending, found = list(django_filters.FilterSet.__subclasses__()), []
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {"salesapp", "leads", "opportunities", "territories", "quotas",
                                             "intelligence", "activities"}:
            found.append(cls)
    return found


def test_every_number_filter_is_a_bounded_one():
    filtersets = _filtersets()
    loose = [f"{fs.__module__}.{fs.__name__}.{name}" for fs in filtersets for name, f in fs.base_filters.items()
             if isinstance(f, django_filters.NumberFilter) and not isinstance(f, BOUNDED_NUMBER_FILTERS)]

    assert len(filtersets) >= 8
    assert loose == []


# --- what the fuzzer found -----------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", [f"/api/v1/leads/{HUGE}/", "/api/v1/quotas/abc/", "/api/v1/quotas/abc/allocate/",
                                  "/api/v1/recommendations/abc/accept/", f"/api/v1/opportunities/{HUGE}/score/"])
def test_ids_no_column_holds_answer_404(api, admin_user, path):
    method = "post" if path.endswith(("allocate/", "accept/")) else "get"
    response = getattr(api.as_user(admin_user), method)(path, {}, format="json")

    assert response.status_code == 404
    if response["Content-Type"].startswith("application/json"):
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_a_page_with_an_id_no_column_holds_answers_404(client, admin_user):
    client.force_login(admin_user)

    assert client.get(f"/leads/{HUGE}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "param"), [
    ("/api/v1/leads/", "assigned_to"), ("/api/v1/contacts/", "account"), ("/api/v1/opportunities/", "min_amount"),
    ("/api/v1/pipeline/summary/", "owner"), ("/api/v1/forecasts/", "user"), ("/api/v1/quotas/attainment/", "user"),
])
def test_numbers_no_column_holds_in_filters_answer_400_naming_them(api, admin_user, path, param):
    for value in (HUGE, "-4.2e307", "1e400", "x"):
        response = api.as_user(admin_user).get(path, {param: value, "period": "Q1_2026"})

        assert response.status_code == 400, (value, response.content)
        assert param in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_ids_no_column_holds_in_bodies_answer_400_naming_them(api, rep):
    opp = OpportunityFactory(owner=rep)
    client = api.as_user(rep)

    created = client.post("/api/v1/opportunities/", {"name": "x", "account_id": 2**64}, format="json")
    moved = client.post("/api/v1/opportunities/bulk-stage/", {"ids": [opp.pk, 2**64], "stage": "proposal"},
                        format="json")
    negative = client.patch(f"/api/v1/opportunities/{opp.pk}/", {"owner_id": -1}, format="json")

    assert created.status_code == moved.status_code == negative.status_code == 400
    assert "account_id" in created.json()["error"]["fields"]
    assert "ids" in moved.json()["error"]["fields"]
    assert "owner_id" in negative.json()["error"]["fields"]


@pytest.mark.django_db
def test_an_unknown_user_on_forecasts_answers_404(api, manager):
    response = api.as_user(manager).get("/api/v1/forecasts/", {"user": 2**62})

    assert response.status_code == 404


@pytest.mark.django_db
def test_json_nested_deeper_than_64_levels_answers_400(api, rep):
    deep = "[" * 5000 + "]" * 5000
    just_too_deep = json.dumps({"name": json.loads("[" * 64 + "]" * 64)})

    for body in (deep, just_too_deep):
        response = api.as_user(rep).generic("POST", "/api/v1/leads/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.django_db
def test_form_bodies_are_refused_with_415_where_json_is_expected(api, rep):
    response = api.as_user(rep).post("/api/v1/opportunities/bulk-stage/", "ids=1&" * 2000,
                                     content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_an_invalid_cursor_answers_400(api, rep):
    response = api.as_user(rep).get("/api/v1/leads/", {"cursor": "not-ours"})

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_the_pipeline_page_ignores_an_owner_that_is_no_id(client, rep):
    LeadFactory(assigned_to=rep)
    client.force_login(rep)

    assert client.get("/pipeline/", {"owner": "x", "team": HUGE}).status_code == 200


@pytest.mark.parametrize("detail", [
    {"items": [{}, {"amount": ["Too big."]}]},
    {"a": {"b": {"c": [{"d": ["deep"]}]}}},
    [{"name": ["required"]}, {}],
    {"empty": {}, "also": []},
    ["plain"],
])
def test_the_error_handler_survives_any_nesting(rf, detail):
    response = exception_handler(exceptions.ValidationError(detail), {"request": rf.get("/"), "view": None})

    body = response.data["error"]
    assert response.status_code == 400 and body["code"] == "validation_error"
    assert isinstance(body["message"], str) and body["message"]
    json.dumps(body)
