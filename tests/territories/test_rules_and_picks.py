"""Who reaches plans and realignment jobs, whom a territory may be given to, and what territory events say."""

import pytest

from salesapp.models import OutboxEvent
from territories import realignment, services
from territories.models import RealignmentJob, TerritoryModel
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/territory-models/"
JOBS = "/api/v1/realignment-jobs/"


@pytest.fixture
def people(admin_user, manager, rep, other_rep, viewer):
    return {"admin": admin_user, "manager": manager, "rep": rep, "other_rep": other_rep, "viewer": viewer}


@pytest.fixture
def plans(admin_user, rep):
    """The active plan (rep holds West in it) and an empty planning draft nobody holds anything in."""
    west = services.territory_create(actor=admin_user, name="West", countries=["US"])
    services.territory_member_add(actor=admin_user, territory=west, user=rep)
    draft = services.territory_model_create(actor=admin_user, name="FY28 draft")
    return {"active": west.model, "draft": draft, "west": west}


def test_planners_see_every_plan_and_others_only_plans_holding_their_territories(api, plans, people):
    # given an active plan where the rep holds West, and an empty draft
    active, draft = plans["active"], plans["draft"]

    def listed(role):
        return {m["id"] for m in api.as_user(people[role]).get(MODELS).json()["results"]}

    # then the manager (a planner) sees both plans, the rep the plan holding West, the others none
    assert listed("manager") == {active.pk, draft.pk}
    assert listed("rep") == {active.pk}
    assert listed("other_rep") == set() and listed("viewer") == set()
    assert api.as_user(people["rep"]).get(f"{MODELS}{draft.pk}/").status_code == 404


def test_the_tree_page_offers_only_the_plans_the_user_may_see(client, plans, rep):
    client.force_login(rep)
    page = client.get("/territories/").content.decode()
    assert plans["active"].name in page and "FY28 draft" not in page
    assert client.get("/territories/", {"model": plans["draft"].pk}).status_code == 404


@pytest.mark.usefixtures("test_providers")
def test_realignment_jobs_are_reached_by_planners_only(api, plans, people, django_capture_on_commit_callbacks):
    # given a previewed realignment of the active plan
    with django_capture_on_commit_callbacks(execute=True):
        job = realignment.realignment_preview_start(actor=people["admin"], model=plans["active"])
    manager = people["manager"]
    # then planners list it, and a rep or a read-only user neither lists nor opens it
    assert [j["id"] for j in api.as_user(manager).get(JOBS).json()["results"]] == [job.pk]
    for user in (people["rep"], people["viewer"]):
        assert api.as_user(user).get(JOBS).status_code == 403
        assert api.as_user(user).get(f"{JOBS}{job.pk}/").status_code == 403
        # and the record rule itself hides the job, whatever the role matrix says
        assert not RealignmentJob.objects.restrict(user).exists()
    assert RealignmentJob.objects.restrict(manager, "change").get() == job


def test_a_rep_cannot_change_a_plan_they_see(api, plans, rep):
    response = api.as_user(rep).patch(f"{MODELS}{plans['active'].pk}/", {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert TerritoryModel.objects.get(pk=plans["active"].pk).name == plans["active"].name


def test_a_manager_gives_a_territory_only_to_their_team(api, manager, rep, other_rep):
    # given a manager with a rep reporting to them, and a rep of another team
    client = api.as_user(manager)
    # when they give a new territory to the other team's rep, it is refused naming the owner
    refused = client.post("/api/v1/territories/", {"name": "East", "countries": ["US"], "owner": other_rep.pk},
                          format="json")
    assert refused.status_code == 400 and "owner" in refused.json()["error"]["fields"]
    # and to their own rep, it is created
    created = client.post("/api/v1/territories/", {"name": "East", "countries": ["US"], "owner": rep.pk},
                          format="json")
    assert created.status_code == 201 and created.json()["owner"] == rep.pk


def test_members_are_picked_under_the_assignment_policy(api, people):
    # given a territory the manager owns
    east = services.territory_create(actor=people["admin"], name="East", countries=["US"], owner=people["manager"])
    members = f"/api/v1/territories/{east.pk}/members/"
    client = api.as_user(people["manager"])
    # then the manager may add their rep, not another team's rep
    assert client.post(members, {"user": people["rep"].pk}).status_code == 201
    refused = client.post(members, {"user": people["other_rep"].pk})
    assert refused.status_code == 400 and "user" in refused.json()["error"]["fields"]
    # and nobody adds a read-only user as a member (they would be routed leads), though an admin may grant access
    admin = api.as_user(people["admin"])
    read_only = admin.post(members, {"user": people["viewer"].pk})
    assert read_only.status_code == 400 and "user" in read_only.json()["error"]["fields"]
    assert admin.post(f"/api/v1/territories/{east.pk}/grants/", {"user": people["viewer"].pk}).status_code == 201


def test_a_parent_is_picked_among_territories_the_actor_sees(api, admin_user, manager):
    hidden = services.territory_create(actor=admin_user, name="Hidden", countries=["DE"],
                                       owner=UserFactory(role="sales_manager"))
    response = api.as_user(manager).post("/api/v1/territories/", {"name": "Child", "parent": hidden.pk},
                                         format="json")
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]


def test_territory_events_say_what_happened(api, admin_user, plans):
    west = plans["west"]
    OutboxEvent.objects.all().delete()
    # a rename is an update naming the field
    services.territory_update(actor=admin_user, territory=west, name="West Coast")
    updated = OutboxEvent.objects.get(name="territory.updated")
    assert updated.payload["territory_id"] == west.pk and updated.payload["fields"] == ["name"]
    # saving it unchanged publishes nothing
    services.territory_update(actor=admin_user, territory=west, name="West Coast")
    assert OutboxEvent.objects.filter(name="territory.updated").count() == 1
    # a delete is a delete, not an update
    assert api.as_user(admin_user).delete(f"/api/v1/territories/{west.pk}/").status_code == 204
    assert OutboxEvent.objects.filter(name="territory.deleted", payload__territory_id=west.pk).count() == 1
    assert OutboxEvent.objects.filter(name="territory.updated").count() == 1


def test_activating_a_plan_publishes_no_territory_update_for_no_territory(admin_user, plans):
    OutboxEvent.objects.all().delete()
    services.territory_model_activate_now(actor=admin_user, model=plans["draft"])
    assert TerritoryModel.objects.get(pk=plans["active"].pk).state == TerritoryModel.State.ARCHIVED
    assert not OutboxEvent.objects.filter(name__startswith="territory.").exists()
