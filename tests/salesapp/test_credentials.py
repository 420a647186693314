"""Credentials end when they should: a new password, deactivation or a new role ends every session and
token; the password reset by email; nobody demotes or deactivates themselves or the last active admin."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from salesapp import services
from salesapp.models import User
from tests.salesapp.conftest import PASSWORD
from tests.salesapp.test_admin_console import _change_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(bearer):
    """`signed_in(user)` -> (an API client with their tokens, a browser signed in as them)."""

    def sign_in(user, password=PASSWORD):
        api = bearer(user, password)
        browser = Client()
        assert browser.post("/login/", {"username": user.email, "password": password}).status_code == 302
        assert browser.get("/").status_code == 200
        return api, browser

    return sign_in


def _assert_signed_out(api, browser):
    """The old access token, refresh token and browser session no longer work."""
    assert api.get("/api/v1/users/me/").status_code == 401
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": api.tokens["refresh"]})
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "token_not_valid"
    page = browser.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")


def test_after_an_admin_sets_a_users_password_their_old_refresh_token_answers_401(bearer, signed_in, admin_user, rep):
    # Given the rep holds tokens and a browser session
    rep_api, browser = signed_in(rep)
    # When an admin sets a new password for them
    assert bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"password": "brand-new-secret-7"}).status_code == 200
    # Then the old refresh token answers 401, and the access token and the session are dead too
    _assert_signed_out(rep_api, browser)
    # While the new password signs in
    assert APIClient().post("/api/v1/auth/token/", {"email": rep.email, "password": "brand-new-secret-7"}).status_code == 200


def test_a_password_set_in_the_admin_console_ends_the_users_sessions_and_tokens(signed_in, admin_user, rep):
    rep_api, browser = signed_in(rep)
    console = Client()
    console.force_login(admin_user)
    response = console.post(f"/admin/salesapp/user/{rep.pk}/password/", {
        "password1": "console-secret-77", "password2": "console-secret-77", "usable_password": "true",
    })
    assert response.status_code == 302
    _assert_signed_out(rep_api, browser)
    # And the admin's own console session goes on
    assert console.get("/admin/").status_code == 200


def test_a_role_change_ends_the_users_sessions_and_tokens(bearer, signed_in, admin_user, rep):
    rep_api, browser = signed_in(rep)
    assert bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"role": "read_only"}).status_code == 200
    _assert_signed_out(rep_api, browser)


def test_a_role_change_in_the_admin_console_ends_the_users_sessions_and_tokens(signed_in, admin_user, rep):
    rep_api, browser = signed_in(rep)
    console = Client()
    console.force_login(admin_user)
    assert console.post(f"/admin/salesapp/user/{rep.pk}/change/", _change_form(rep, role="read_only")).status_code == 302
    _assert_signed_out(rep_api, browser)


def test_a_bearer_request_reads_the_user_from_the_cache_until_it_changes(bearer, rep, django_assert_num_queries):
    client = bearer(rep)
    client.get("/api/v1/users/me/")  # the first answer caches the rep with their permission set
    with django_assert_num_queries(0):
        assert client.get("/api/v1/users/me/").status_code == 200

    services.user_credentials_revoke(user=rep)
    assert client.get("/api/v1/users/me/").status_code == 401


def test_a_new_password_set_by_an_admin_passes_the_password_rules(bearer, admin_user, rep):
    response = bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"password": "password"})
    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


def test_a_name_change_ends_nothing(bearer, signed_in, admin_user, rep):
    rep_api, browser = signed_in(rep)
    assert bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"first_name": "Renamed"}).status_code == 200
    assert rep_api.get("/api/v1/users/me/").status_code == 200
    assert browser.get("/").status_code == 200


def test_changing_your_own_password_keeps_this_session_and_ends_the_others(signed_in, rep):
    # Given the rep is signed in in two browsers and holds tokens
    rep_api, other_browser = signed_in(rep)
    browser = Client()
    browser.post("/login/", {"username": rep.email, "password": PASSWORD})
    # When they change their password in one browser
    page = browser.get("/password/change/")
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    response = browser.post("/password/change/", {
        "old_password": PASSWORD, "new_password1": "my-own-new-secret-9", "new_password2": "my-own-new-secret-9",
    })
    assert response.status_code == 302 and response["Location"] == "/password/change/done/"
    # Then that browser stays signed in; the other one, and the tokens, are signed out
    assert browser.get("/").status_code == 200
    _assert_signed_out(rep_api, other_browser)


def test_a_wrong_old_password_changes_nothing(rep):
    browser = Client()
    browser.post("/login/", {"username": rep.email, "password": PASSWORD})
    response = browser.post("/password/change/", {
        "old_password": "not-it", "new_password1": "my-own-new-secret-9", "new_password2": "my-own-new-secret-9",
    })
    assert response.status_code == 200
    assert 'data-testid="error-old_password"' in response.content.decode()
    assert browser.get("/").status_code == 200


def test_a_password_reset_by_email_sets_a_new_password_and_ends_the_old_sessions(signed_in, rep):
    # Given the rep is signed in somewhere (and locked out of signing in anew after wrong guesses)
    rep_api, browser = signed_in(rep)
    for n in range(10):
        APIClient().post("/api/v1/auth/token/", {"email": rep.email, "password": f"guess-{n}"})
    # When they ask for a reset from the sign-in page
    visitor = Client()
    assert "/password/reset/" in visitor.get("/login/").content.decode()
    response = visitor.post("/password/reset/", {"email": rep.email.upper()})
    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    # Then one email with a link is sent to them
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [rep.email]
    link = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    # When they follow it and set a new password
    form = visitor.get(link, follow=True)
    assert "Set a new password" in form.content.decode()
    response = visitor.post(form.redirect_chain[-1][0], {
        "new_password1": "reset-secret-123", "new_password2": "reset-secret-123",
    })
    assert response.status_code == 302 and response["Location"] == "/password/reset/done/"
    # Then the old sessions and tokens are gone, the lockout too, and the new password signs in
    _assert_signed_out(rep_api, browser)
    assert APIClient().post("/api/v1/auth/token/", {"email": rep.email, "password": "reset-secret-123"}).status_code == 200
    # And the link works once
    assert "This link no longer works" in visitor.get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_email_sends_nothing_and_says_the_same():
    response = Client().post("/password/reset/", {"email": "nobody@test.example"})
    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    assert mail.outbox == []


# --- nobody demotes or deactivates themselves, or the last active admin --------------------------------

def test_an_admin_cannot_deactivate_themselves(bearer, admin_user):
    response = bearer(admin_user).post(f"/api/v1/users/{admin_user.pk}/deactivate/")
    assert response.status_code == 400
    assert "is_active" in response.json()["error"]["fields"]
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_an_admin_cannot_change_their_own_role(bearer, admin_user):
    response = bearer(admin_user).patch(f"/api/v1/users/{admin_user.pk}/", {"role": "sales_manager"})
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.is_superuser) == ("admin", True)


def test_an_admin_deactivates_and_demotes_another_admin(bearer, admin_user):
    second = services.user_create(email="second.admin@test.example", password=PASSWORD, role="admin")
    assert bearer(admin_user).patch(f"/api/v1/users/{second.pk}/", {"role": "sales_manager"}).status_code == 200
    assert bearer(admin_user).post(f"/api/v1/users/{second.pk}/deactivate/").status_code == 200


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin_user):
    # Given one active admin (another admin is inactive); a script or task acting without a user
    former = services.user_create(email="former.admin@test.example", password=PASSWORD, role="admin")
    User.objects.filter(pk=former.pk).update(is_active=False)
    with pytest.raises(ValidationError) as demoted:
        services.user_update(actor=None, user=admin_user, role="sales_rep")
    assert "role" in demoted.value.message_dict
    with pytest.raises(ValidationError) as deactivated:
        services.user_deactivate(actor=None, user=admin_user)
    assert "is_active" in deactivated.value.message_dict
    admin_user.refresh_from_db()
    assert (admin_user.role, admin_user.is_active) == ("admin", True)


def test_the_admin_console_refuses_deactivating_or_demoting_yourself_naming_the_field(client, admin_user):
    client.force_login(admin_user)
    for change, field in ((dict(is_active=None), "is_active"), (dict(role="sales_rep"), "role")):
        response = client.post(f"/admin/salesapp/user/{admin_user.pk}/change/", _change_form(admin_user, **change))
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
    stored = User.objects.get(pk=admin_user.pk)
    assert (stored.role, stored.is_active) == ("admin", True)
