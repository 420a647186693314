"""User administration through the API: admins manage, managers see their subtree."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from salesapp.hierarchy import user_subtree_ids
from salesapp.models import User
from tests.salesapp.conftest import PASSWORD
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def _emails(response):
    return sorted(row["email"] for row in response.json()["results"])


def test_admin_lists_every_user(bearer, admin_user, manager, rep, other_rep):
    response = bearer(admin_user).get("/api/v1/users/")
    assert response.status_code == 200
    assert _emails(response) == sorted([admin_user.email, manager.email, rep.email, other_rep.email])
    row = next(r for r in response.json()["results"] if r["email"] == rep.email)
    assert row["role"] == "sales_rep"
    assert row["manager"] == manager.pk


def test_admin_creates_a_user_who_can_then_sign_in(bearer, admin_user, manager):
    # When the admin creates a rep reporting to the manager
    response = bearer(admin_user).post(
        "/api/v1/users/",
        {"email": "new.rep@test.example", "password": "a-long-secret-9", "role": "sales_rep", "manager": manager.pk},
    )
    # Then the API shows the new user, without the password
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["role"], body["manager"], body["is_active"]) == (
        "new.rep@test.example", "sales_rep", manager.pk, True,
    )
    assert "password" not in body
    # And the new rep can sign in and is in the rep group
    token = APIClient().post("/api/v1/auth/token/", {"email": "new.rep@test.example", "password": "a-long-secret-9"})
    assert token.status_code == 200
    assert list(User.objects.get(email="new.rep@test.example").groups.values_list("name", flat=True)) == ["sales_rep"]


def test_creating_a_user_with_a_duplicate_email_names_the_field(bearer, admin_user, rep):
    response = bearer(admin_user).post(
        "/api/v1/users/", {"email": rep.email, "password": "a-long-secret-9", "role": "sales_rep"}
    )
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]


def test_creating_a_user_with_an_unknown_role_names_the_field(bearer, admin_user):
    response = bearer(admin_user).post(
        "/api/v1/users/", {"email": "x@test.example", "password": "a-long-secret-9", "role": "emperor"}
    )
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["manager", "rep", "viewer"])
def test_non_admins_may_not_create_users(request, bearer, who):
    user = request.getfixturevalue(who)
    response = bearer(user).post(
        "/api/v1/users/", {"email": "sneaky@test.example", "password": "a-long-secret-9", "role": "admin"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not User.objects.filter(email="sneaky@test.example").exists()


def test_rep_may_not_change_their_own_role(bearer, rep):
    response = bearer(rep).patch(f"/api/v1/users/{rep.pk}/", {"role": "admin"})
    assert response.status_code == 403
    rep.refresh_from_db()
    assert rep.role == "sales_rep"


def test_admin_updates_a_user(bearer, admin_user, rep, other_rep):
    response = bearer(admin_user).patch(
        f"/api/v1/users/{rep.pk}/", {"first_name": "Renamed", "manager": other_rep.pk}
    )
    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "Renamed"
    assert response.json()["manager"] == other_rep.pk
    rep.refresh_from_db()
    assert (rep.first_name, rep.manager_id) == ("Renamed", other_rep.pk)


def test_admin_changes_a_password_and_the_new_one_works(bearer, admin_user, rep):
    response = bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"password": "brand-new-secret-7"})
    assert response.status_code == 200
    client = APIClient()
    assert client.post("/api/v1/auth/token/", {"email": rep.email, "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token/", {"email": rep.email, "password": "brand-new-secret-7"}).status_code == 200


def test_deactivating_a_user_ends_their_tokens_and_browser_session(bearer, admin_user, rep):
    # Given the rep holds an API token and is signed in in a browser
    rep_api = bearer(rep)
    refresh = rep_api.tokens["refresh"]
    browser = Client()
    assert browser.post("/login/", {"username": rep.email, "password": PASSWORD}).status_code == 302
    assert browser.get("/").status_code == 200
    assert rep_api.get("/api/v1/users/me/").status_code == 200
    # When the admin deactivates the rep
    response = bearer(admin_user).post(f"/api/v1/users/{rep.pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    # Then the rep's access token is refused
    me = rep_api.get("/api/v1/users/me/")
    assert me.status_code == 401
    assert "error" in me.json()
    # And their refresh token cannot mint a new one
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401
    # And their browser session is gone: the next page sends them to sign in
    page = browser.get("/")
    assert page.status_code == 302
    assert page["Location"].startswith("/login/")
    # And they cannot sign in again
    assert APIClient().post("/api/v1/auth/token/", {"email": rep.email, "password": PASSWORD}).status_code == 401
    # And should they be reactivated, the old session and tokens stay dead (their token epoch moved on)
    rep.refresh_from_db()
    rep.is_active = True
    rep.save(update_fields=["is_active"])
    assert browser.get("/").status_code == 302
    assert rep_api.get("/api/v1/users/me/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401


def test_manager_may_not_deactivate_anyone(bearer, manager, rep):
    assert bearer(manager).post(f"/api/v1/users/{rep.pk}/deactivate/").status_code == 403
    rep.refresh_from_db()
    assert rep.is_active


def test_manager_lists_only_their_subtree(bearer, manager, rep, other_rep, admin_user):
    # Given a rep two levels below the manager
    deep = UserFactory(email="deep@test.example", manager=rep)
    response = bearer(manager).get("/api/v1/users/")
    assert response.status_code == 200
    assert _emails(response) == sorted([manager.email, rep.email, deep.email])


def test_manager_gets_404_for_a_user_outside_their_subtree(bearer, manager, other_rep):
    response = bearer(manager).get(f"/api/v1/users/{other_rep.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_rep_lists_only_themselves(bearer, rep, manager, other_rep):
    assert _emails(bearer(rep).get("/api/v1/users/")) == [rep.email]


def test_a_cycle_in_the_manager_chain_is_refused_naming_manager(bearer, admin_user):
    # Given top <- middle <- bottom
    top = UserFactory(email="top@test.example", role="sales_manager")
    middle = UserFactory(email="middle@test.example", role="sales_manager", manager=top)
    bottom = UserFactory(email="bottom@test.example", manager=middle)
    client = bearer(admin_user)
    # When the admin makes bottom the manager of top
    response = client.patch(f"/api/v1/users/{top.pk}/", {"manager": bottom.pk})
    # Then it is refused, naming the field, and nothing changed
    assert response.status_code == 400
    assert "manager" in response.json()["error"]["fields"]
    assert response.json()["error"]["message"].startswith("manager")
    top.refresh_from_db()
    assert top.manager_id is None
    # And nobody may be their own manager
    response = client.patch(f"/api/v1/users/{top.pk}/", {"manager": top.pk})
    assert response.status_code == 400
    assert "manager" in response.json()["error"]["fields"]


def test_subtree_of_a_four_level_hierarchy_is_one_query(django_assert_num_queries):
    # Given VP <- 2 directors <- 2 managers each <- 2 reps each
    vp = UserFactory(email="vp@test.example", role="sales_manager")
    expected = {vp.pk}
    for d in range(2):
        director = UserFactory(email=f"dir{d}@test.example", role="sales_manager", manager=vp)
        expected.add(director.pk)
        for m in range(2):
            mgr = UserFactory(email=f"mgr{d}{m}@test.example", role="sales_manager", manager=director)
            expected.add(mgr.pk)
            for r in range(2):
                expected.add(UserFactory(email=f"rep{d}{m}{r}@test.example", manager=mgr).pk)
    UserFactory(email="outsider@test.example")
    # When the VP's subtree is read, it takes one SQL query
    with django_assert_num_queries(1):
        ids = user_subtree_ids(vp.pk)
    # And it holds all 15 people and nobody else
    assert set(ids) == expected
    assert len(expected) == 15


def test_user_list_costs_the_same_queries_for_few_or_many_users(api, admin_user, manager, django_assert_max_num_queries):
    client = api.as_user(admin_user)
    UserFactory.create_batch(3, manager=manager)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/users/").status_code == 200
    UserFactory.create_batch(20, manager=manager)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/users/")
    assert len(response.json()["results"]) == 25
