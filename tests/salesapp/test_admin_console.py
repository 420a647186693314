"""The Django admin console for users and roles."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from salesapp.models import User
from tests.salesapp.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _change_form(user, **overrides):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
        "manager": user.manager_id or "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_adds_a_user_in_the_console_who_lands_in_the_role_group(client, admin_user, manager):
    client.force_login(admin_user)
    assert client.get("/admin/salesapp/user/add/").status_code == 200
    response = client.post("/admin/salesapp/user/add/", {
        "email": "console.rep@test.example", "role": "sales_rep", "manager": manager.pk,
        "password1": "console-secret-77", "password2": "console-secret-77", "usable_password": "true",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="console.rep@test.example")
    assert (user.role, user.manager_id) == ("sales_rep", manager.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["sales_rep"]
    assert APIClient().post(
        "/api/v1/auth/token/", {"email": "console.rep@test.example", "password": "console-secret-77"}
    ).status_code == 200


def test_promoting_to_admin_in_the_console_opens_the_console_to_them(client, admin_user, rep):
    client.force_login(admin_user)
    response = client.post(f"/admin/salesapp/user/{rep.pk}/change/", _change_form(rep, role="admin"))
    assert response.status_code == 302
    promoted = User.objects.get(pk=rep.pk)
    assert list(promoted.groups.values_list("name", flat=True)) == ["admin"]
    browser = Client()
    browser.force_login(promoted)
    assert browser.get("/admin/").status_code == 200


def test_deactivating_in_the_console_ends_tokens_and_sessions(client, admin_user, rep, bearer):
    rep_api = bearer(rep)
    browser = Client()
    browser.post("/login/", {"username": rep.email, "password": PASSWORD})
    assert browser.get("/").status_code == 200
    # When the admin unticks "active" in the console
    client.force_login(admin_user)
    response = client.post(f"/admin/salesapp/user/{rep.pk}/change/", _change_form(rep, is_active=None))
    assert response.status_code == 302
    # Then the rep's token, refresh token and browser session no longer work
    assert rep_api.get("/api/v1/users/me/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": rep_api.tokens["refresh"]}).status_code == 401
    assert browser.get("/").status_code == 302


def test_roles_and_their_permissions_are_shown_and_editable_in_the_console(client, admin_user):
    from django.contrib.auth.models import Group

    client.force_login(admin_user)
    group = Group.objects.get(name="sales_rep")
    page = client.get(f"/admin/auth/group/{group.pk}/change/").content.decode()
    assert "opportunity:write" in page or "Create and change accounts, contacts and opportunities" in page


def test_an_admin_added_in_the_console_can_open_the_console(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/salesapp/user/add/", {
        "email": "second.admin@test.example", "role": "admin",
        "password1": "console-secret-77", "password2": "console-secret-77", "usable_password": "true",
    })
    assert response.status_code == 302
    second = User.objects.get(email="second.admin@test.example")
    assert (second.is_staff, second.is_superuser) == (True, True)
    assert list(second.groups.values_list("name", flat=True)) == ["admin"]


def test_the_console_refuses_a_manager_cycle_on_add_too(client, admin_user, rep):
    client.force_login(admin_user)
    response = client.post("/admin/salesapp/user/add/", {
        "email": "loop@test.example", "role": "sales_rep", "manager": rep.pk,
        "password1": "console-secret-77", "password2": "console-secret-77", "usable_password": "true",
    })
    # A brand-new user cannot close a loop: they are simply added under the rep
    assert response.status_code == 302
    assert User.objects.get(email="loop@test.example").manager_id == rep.pk
