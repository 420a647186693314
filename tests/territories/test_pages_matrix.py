"""Every territory page for every role, and the admin console for territory setup."""

import pytest
from django.urls import reverse

from territories import realignment, services
from territories.models import Territory, TerritoryMember
from tests.salesapp.factories import PicklistValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(admin_user, manager, rep, other_rep, viewer):
    return {"admin": admin_user, "manager": manager, "rep": rep, "other_rep": other_rep, "viewer": viewer}


@pytest.fixture
def setup(people, test_providers, django_capture_on_commit_callbacks):
    admin_user, rep, other_rep = people["admin"], people["rep"], people["other_rep"]
    na = services.territory_create(actor=admin_user, name="North America", countries=["US"])
    west = services.territory_create(actor=admin_user, name="US West Tech", parent=na, states=["CA"])
    emea = services.territory_create(actor=admin_user, name="EMEA", countries=["DE"])
    services.territory_member_add(actor=admin_user, territory=west, user=rep)
    services.territory_member_add(actor=admin_user, territory=emea, user=other_rep)
    with django_capture_on_commit_callbacks(execute=True):
        job = realignment.realignment_preview_start(actor=admin_user, model=na.model)
    return {"na": na, "west": west, "emea": emea, "job": job,
            "users": people}


# role -> (can write, sees West, sees EMEA)
ROLES = {"admin": (True, True, True), "manager": (True, True, False), "rep": (False, True, False),
         "viewer": (False, False, False)}


@pytest.mark.parametrize("role", list(ROLES))
def test_pages_answer_each_role(client, setup, role):
    can_write, sees_west, sees_emea = ROLES[role]
    client.force_login(setup["users"][role])
    assert client.get(reverse("territories:tree")).status_code == 200
    assert client.get(reverse("territories:match"), {"country": "US"}).status_code == 200
    assert client.get(reverse("territories:detail", args=[setup["west"].pk])).status_code == (200 if sees_west else 404)
    assert client.get(reverse("territories:detail", args=[setup["emea"].pk])).status_code == (200 if sees_emea else 404)
    assert client.get(reverse("territories:job", args=[setup["job"].pk])).status_code == (200 if can_write else 403)
    assert client.get(reverse("territories:create")).status_code == (200 if can_write else 403)
    if can_write:
        assert client.get(reverse("territories:edit", args=[setup["west"].pk])).status_code == 200
    else:
        for name, args in [("territories:member-add", [setup["west"].pk]), ("territories:model-preview",
                           [setup["na"].model_id]), ("territories:job-apply", [setup["job"].pk]),
                           ("territories:delete", [setup["west"].pk])]:
            assert client.post(reverse(name, args=args)).status_code == 403, name
    # a territory that does not exist is not found for everyone
    assert client.get(reverse("territories:detail", args=[999999])).status_code == 404


def test_admin_console_pages(client, setup, admin_user):
    client.force_login(admin_user)
    west = setup["west"]
    for url in ["/admin/territories/territory/", "/admin/territories/territory/add/",
                f"/admin/territories/territory/{west.pk}/change/", f"/admin/territories/territory/{west.pk}/permissions/",
                "/admin/territories/territorymodel/", f"/admin/territories/territorymodel/{west.model_id}/change/",
                "/admin/territories/realignmentjob/", f"/admin/territories/realignmentjob/{setup['job'].pk}/change/"]:
        assert client.get(url).status_code == 200, url


def test_admin_saves_go_through_the_services(client, setup, admin_user, other_rep):
    client.force_login(admin_user)
    PicklistValueFactory(kind="industry", value="technology")
    west = setup["west"]
    members = list(TerritoryMember.objects.filter(territory=west))
    # the rule editor's fields: countries picked (none), states and postal codes as lists, industry from its list
    data = {
        "model": west.model_id, "name": "US West Tech", "type": "industry", "parent": setup["na"].pk, "owner": "",
        "priority": 7, "is_active": "on", "routing_policy": "round_robin",
        "states": "ca, wa", "zip_codes": "", "industry": "technology",
        "members-TOTAL_FORMS": len(members) + 1, "members-INITIAL_FORMS": len(members),
        "members-MIN_NUM_FORMS": 0, "members-MAX_NUM_FORMS": 1000,
    }
    for i, m in enumerate(members):
        data.update({f"members-{i}-id": m.pk, f"members-{i}-territory": west.pk, f"members-{i}-user": m.user_id,
                     f"members-{i}-daily_capacity": 9})
    n = len(members)
    data.update({f"members-{n}-territory": west.pk, f"members-{n}-user": other_rep.pk,
                 f"members-{n}-daily_capacity": 4})
    response = client.post(f"/admin/territories/territory/{west.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    west = Territory.objects.get(pk=west.pk)
    assert west.states == ["CA", "WA"] and west.priority == 7
    assert TerritoryMember.objects.get(territory=west, user=other_rep).daily_capacity == 4
    assert other_rep.has_perm("territories.access_territory", west)
    from salesapp.models import OutboxEvent

    assert OutboxEvent.objects.filter(name="territory.updated", payload__territory_id=west.pk,
                                      payload__change="member_added").exists()
