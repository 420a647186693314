"""The territories API: CRUD guarded by territory:assign, match, members, grants, models, realignment."""

import pytest
from django.contrib.auth.models import Group

from salesapp.models import OutboxEvent
from territories import services
from territories.models import Territory, TerritoryModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def na_and_west(api, admin_user):
    client = api.as_user(admin_user)
    na = client.post("/api/v1/territories/", {"name": "North America", "type": "geographic",
                                              "countries": ["US", "CA"]}, format="json")
    assert na.status_code == 201, na.content
    west = client.post("/api/v1/territories/", {
        "name": "US West Tech", "type": "industry", "parent": na.json()["id"], "states": ["CA", "WA"],
        "industry": "technology"}, format="json")
    assert west.status_code == 201, west.content
    return na.json(), west.json()


def test_created_territories_join_the_active_model_and_publish(na_and_west):
    na, west = na_and_west
    active = TerritoryModel.objects.get(state="active")
    assert na["model"] == west["model"] == active.pk
    assert west["rules_text"] == ["State is CA or WA", "Industry is technology"]
    assert OutboxEvent.objects.filter(name="territory.created", payload__territory_id=west["id"]).exists()


def test_match_answers_the_winner_and_the_explanation(api, rep, na_and_west):
    # The example, asked by a rep (who may read territories)
    client = api.as_user(rep)
    tech = client.get("/api/v1/territories/match/", {"country": "US", "state": "CA", "industry": "Technology"})
    assert tech.status_code == 200
    body = tech.json()
    assert body["territory"] == {"id": na_and_west[1]["id"], "name": "US West Tech"}
    details = [r["detail"] for c in body["explanation"] for r in c["rules"]]
    assert "state CA is in CA, WA" in details and "industry technology is technology" in details
    ny = client.get("/api/v1/territories/match/", {"country": "US", "state": "NY"}).json()
    assert ny["territory"]["name"] == "North America"
    nowhere = client.get("/api/v1/territories/match/", {"country": "JP"}).json()
    assert nowhere["territory"] is None and nowhere["explanation"] == []


def test_match_names_bad_parameters(api, rep):
    response = api.as_user(rep).get("/api/v1/territories/match/", {"employee_count": "many"})
    assert response.status_code == 400
    assert "employee_count" in response.json()["error"]["fields"]


@pytest.mark.parametrize("role_fixture,status", [("manager", 201), ("rep", 403), ("viewer", 403)])
def test_territory_assign_guards_writes(request, api, role_fixture, status):
    user = request.getfixturevalue(role_fixture)
    response = api.as_user(user).post("/api/v1/territories/", {"name": "EMEA", "countries": ["DE"]}, format="json")
    assert response.status_code == status


def test_update_and_delete(api, admin_user, na_and_west):
    client = api.as_user(admin_user)
    na, west = na_and_west
    patched = client.patch(f"/api/v1/territories/{west['id']}/", {"states": ["ca", "or"], "priority": 3}, format="json")
    assert patched.status_code == 200
    assert patched.json()["states"] == ["CA", "OR"] and patched.json()["priority"] == 3
    refused = client.delete(f"/api/v1/territories/{na['id']}/")
    assert refused.status_code == 400 and "parent" in refused.json()["error"]["fields"]
    assert client.delete(f"/api/v1/territories/{west['id']}/").status_code == 204
    assert not Territory.objects.filter(pk=west["id"]).exists()


def test_validation_errors_name_the_field(api, admin_user, na_and_west):
    client = api.as_user(admin_user)
    bad = client.post("/api/v1/territories/", {"name": "X", "zip_codes": ["94199-94100"], "min_employee_count": 50,
                                               "max_employee_count": 10}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"zip_codes", "max_employee_count"}
    loop = client.patch(f"/api/v1/territories/{na_and_west[0]['id']}/", {"parent": na_and_west[1]["id"]},
                        format="json")
    assert loop.status_code == 400 and "parent" in loop.json()["error"]["fields"]


def test_members_add_list_update_remove(api, admin_user, rep, na_and_west):
    client = api.as_user(admin_user)
    tid = na_and_west[1]["id"]
    added = client.post(f"/api/v1/territories/{tid}/members/", {"user": rep.pk, "daily_capacity": 12}, format="json")
    assert added.status_code == 201 and added.json()["daily_capacity"] == 12
    territory = Territory.objects.get(pk=tid)
    assert rep.has_perm("territories.access_territory", territory)
    again = client.post(f"/api/v1/territories/{tid}/members/", {"user": rep.pk}, format="json")
    assert again.status_code == 400 and "user" in again.json()["error"]["fields"]
    listed = client.get(f"/api/v1/territories/{tid}/members/").json()
    assert [(m["email"], m["daily_capacity"]) for m in listed] == [(rep.email, 12)]
    patched = client.patch(f"/api/v1/territories/{tid}/members/{rep.pk}/", {"daily_capacity": None}, format="json")
    assert patched.status_code == 200 and patched.json()["daily_capacity"] is None
    assert client.delete(f"/api/v1/territories/{tid}/members/{rep.pk}/").status_code == 204
    from django.contrib.auth import get_user_model

    fresh = get_user_model().objects.get(pk=rep.pk)  # guardian caches perms per user object
    assert not fresh.has_perm("territories.access_territory", territory)
    assert client.get(f"/api/v1/territories/{tid}/members/").json() == []


def test_grants_for_users_and_groups(api, admin_user, viewer, na_and_west):
    client = api.as_user(admin_user)
    tid = na_and_west[0]["id"]
    group = Group.objects.create(name="Partners")
    assert client.post(f"/api/v1/territories/{tid}/grants/", {"user": viewer.pk}, format="json").status_code == 201
    body = client.post(f"/api/v1/territories/{tid}/grants/", {"group": group.pk}, format="json").json()
    assert body == {"users": [{"user": viewer.pk, "email": viewer.email}],
                    "groups": [{"group": group.pk, "name": "Partners"}]}
    neither = client.post(f"/api/v1/territories/{tid}/grants/", {}, format="json")
    assert neither.status_code == 400 and "user" in neither.json()["error"]["fields"]
    assert client.delete(f"/api/v1/territories/{tid}/grants/users/{viewer.pk}/").status_code == 204
    assert client.delete(f"/api/v1/territories/{tid}/grants/groups/{group.pk}/").status_code == 204
    assert client.get(f"/api/v1/territories/{tid}/grants/").json() == {"users": [], "groups": []}


def test_reps_see_only_territories_they_hold_and_others_answer_404(api, admin_user, rep, na_and_west):
    na, west = na_and_west
    services.territory_member_add(actor=admin_user, territory=Territory.objects.get(pk=west["id"]), user=rep)
    client = api.as_user(rep)
    assert [t["name"] for t in client.get("/api/v1/territories/").json()["results"]] == ["US West Tech"]
    assert client.get(f"/api/v1/territories/{na['id']}/").status_code == 404
    assert client.get(f"/api/v1/territories/{na['id']}/members/").status_code == 404


def test_territory_models_preview_and_activate(api, admin_user, na_and_west, test_providers,
                                               django_capture_on_commit_callbacks):
    from tests.territories.conftest import make_account

    client = api.as_user(admin_user)
    na, west = na_and_west
    acct = make_account("Portland Tech", country="US", state="OR", industry="technology",
                        territory=Territory.objects.get(pk=na["id"]))
    active = TerritoryModel.objects.get(state="active")
    models = client.get("/api/v1/territory-models/").json()["results"]
    assert [(m["name"], m["state"], m["territory_count"]) for m in models] == [(active.name, "active", 2)]
    # Preview a rule change (nothing saved)
    with django_capture_on_commit_callbacks(execute=True):
        preview = client.post(f"/api/v1/territory-models/{active.pk}/preview/",
                              {"changes": [{"territory_id": west["id"], "states": ["CA", "WA", "OR"]}]}, format="json")
    assert preview.status_code == 202, preview.content
    job_id = preview.json()["id"]
    job = client.get(f"/api/v1/realignment-jobs/{job_id}/").json()
    assert job["status"] == "previewed" and job["total"] == 1
    assert job["sample"][0]["record_id"] == acct.pk and job["sample"][0]["to_territory_id"] == west["id"]
    moves = client.get(f"/api/v1/realignment-jobs/{job_id}/moves/").json()["results"]
    assert [(m["record_type"], m["record_id"]) for m in moves] == [("accounts", acct.pk)]
    assert Territory.objects.get(pk=west["id"]).states == ["CA", "WA"]
    # Apply it through activate
    with django_capture_on_commit_callbacks(execute=True):
        applied = client.post(f"/api/v1/territory-models/{active.pk}/activate/", {"job": job_id}, format="json")
    assert applied.status_code == 202
    job = client.get(f"/api/v1/realignment-jobs/{job_id}/").json()
    assert (job["status"], job["processed"], job["percent"]) == ("done", 1, 100)
    acct.refresh_from_db()
    assert acct.territory_id == west["id"]
    # Clone, then activate the plan in one call
    clone = client.post(f"/api/v1/territory-models/{active.pk}/clone/", {"name": "FY28"}, format="json")
    assert clone.status_code == 201 and clone.json()["state"] == "planning"
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/api/v1/territory-models/{clone.json()['id']}/activate/", {}, format="json")
    assert done.status_code == 202
    assert TerritoryModel.objects.get(state="active").name == "FY28"
    acct.refresh_from_db()
    assert acct.territory.model.name == "FY28" and acct.territory.name == "US West Tech"


def test_reps_cannot_preview_or_activate(api, rep):
    active = TerritoryModel.objects.get(state="active")
    assert api.as_user(rep).post(f"/api/v1/territory-models/{active.pk}/preview/", {}, format="json").status_code == 403
    assert api.as_user(rep).post(f"/api/v1/territory-models/{active.pk}/activate/", {},
                                 format="json").status_code == 403


def test_the_active_model_cannot_be_deleted(api, admin_user):
    active = TerritoryModel.objects.get(state="active")
    response = api.as_user(admin_user).delete(f"/api/v1/territory-models/{active.pk}/")
    assert response.status_code == 400 and "state" in response.json()["error"]["fields"]


def test_territory_list_costs_the_same_queries_for_3_or_30_rows(api, admin_user, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(n):
        for i in range(n - Territory.objects.count()):
            services.territory_create(actor=admin_user, name=f"T{i}", owner=manager, countries=["US"])
        client = api.as_user(manager)
        client.get("/api/v1/territories/")  # new territories retire the manager's cached reach: this recomputes it
        with CaptureQueriesContext(connection) as ctx:
            assert len(client.get("/api/v1/territories/").json()["results"]) == n
        return len(ctx)

    count(3)  # warms the per-user permission and content-type caches
    assert count(3) == count(30)


@pytest.mark.usefixtures("na_and_west", "test_providers")
def test_realignment_jobs_are_for_planners_and_only_admins_see_record_names(
        api, admin_user, manager, rep, django_capture_on_commit_callbacks):
    from tests.territories.conftest import make_account

    make_account("Secret Prospect Inc", country="US", state="CA", industry="technology")
    active = TerritoryModel.objects.get(state="active")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.as_user(manager).post(f"/api/v1/territory-models/{active.pk}/preview/", {},
                                           format="json").json()["id"]
    as_manager = api.as_user(manager).get(f"/api/v1/realignment-jobs/{job_id}/").json()
    assert as_manager["total"] == 1 and as_manager["sample"][0]["label"] == ""
    as_admin = api.as_user(admin_user).get(f"/api/v1/realignment-jobs/{job_id}/moves/").json()
    assert as_admin["results"][0]["label"] == "Secret Prospect Inc"
    assert api.as_user(rep).get(f"/api/v1/realignment-jobs/{job_id}/").status_code == 403
