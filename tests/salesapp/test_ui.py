"""The UI shell: sign-in, home, navigation by role, error pages, the SSO button."""

import importlib

import pytest
from django.test import Client
from django.urls import clear_url_caches

from salesapp import context_processors
from tests.salesapp.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_page_renders_with_email_and_password():
    response = Client().get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sign in" in html
    assert 'name="username"' in html and 'type="password"' in html
    assert "Sign in with SSO" not in html  # OIDC is not configured by default


def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_a_user_signs_in_and_sees_the_home_page(rep):
    client = Client()
    # When the rep signs in with email and password
    response = client.post("/login/", {"username": rep.email, "password": PASSWORD}, follow=True)
    # Then they land on the home page, which greets them and shows who they are
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    html = response.content.decode()
    assert f"Welcome, {rep.first_name}" in html
    assert rep.email in html
    assert "Sales rep" in html


def test_wrong_password_shows_an_error_on_the_sign_in_page(rep):
    response = Client().post("/login/", {"username": rep.email, "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "did not match an active account" in response.content.decode()


def test_deactivated_user_cannot_sign_in(rep):
    rep.is_active = False
    rep.save()
    response = Client().post("/login/", {"username": rep.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "did not match an active account" in response.content.decode()


def test_signed_in_user_visiting_sign_in_goes_home(client, rep):
    client.force_login(rep)
    response = client.get("/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_sign_out_ends_the_session(client, rep):
    client.force_login(rep)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_reps_see_no_admin_link_and_admins_do(client, rep, admin_user):
    client.force_login(rep)
    assert 'href="/admin/"' not in client.get("/").content.decode()
    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get("/").content.decode()


@pytest.fixture
def event_nav_item():
    """A navigation entry that needs `event:read`, which only admins hold."""
    item = ("Event stream", "home", "event:read", "broadcast")
    context_processors.NAVIGATION.append(item)
    yield
    context_processors.NAVIGATION.remove(item)


@pytest.mark.parametrize(("who", "shown"), [("admin_user", True), ("manager", False), ("rep", False), ("viewer", False)])
def test_navigation_shows_only_what_the_role_may_use(request, client, event_nav_item, who, shown):
    client.force_login(request.getfixturevalue(who))
    assert ("Event stream" in client.get("/").content.decode()) is shown


@pytest.mark.parametrize("who", ["admin_user", "manager", "rep", "viewer"])
def test_every_navigation_link_opens_for_the_role_that_sees_it(request, client, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get("/")
    for item in response.context["nav_items"]:
        assert client.get(item["url"]).status_code == 200, (user.role, item)


def test_unknown_url_shows_the_404_page(client, rep):
    client.force_login(rep)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html
    assert rep.email in html  # still inside the app's layout


def test_admin_console_is_closed_to_reps(client, rep):
    client.force_login(rep)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_console_lists_users_and_roles(client, admin_user, rep):
    client.force_login(admin_user)
    users = client.get("/admin/salesapp/user/")
    assert users.status_code == 200
    assert rep.email in users.content.decode()
    groups = client.get("/admin/auth/group/").content.decode()
    for role in ("admin", "sales_manager", "sales_rep", "read_only"):
        assert role in groups


@pytest.fixture
def oidc_configured(settings):
    """OIDC as an operator would set it: the URL conf is built at import, so reload it."""
    import salesapp.urls

    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "sales-client"
    settings.OIDC_RP_CLIENT_SECRET = "sales-secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://idp.test.example/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.test.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.test.example/userinfo"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    importlib.reload(salesapp.urls)
    clear_url_caches()
    yield
    settings.OIDC_ENABLED = False
    importlib.reload(salesapp.urls)
    clear_url_caches()


def test_sso_button_appears_when_oidc_is_configured_and_leads_to_the_provider(oidc_configured):
    client = Client()
    html = client.get("/login/").content.decode()
    assert "Sign in with SSO" in html
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.test.example/authorize?")
    assert "client_id=sales-client" in response["Location"]


def test_403_and_500_pages_render_inside_the_layout(rf, rep):
    from salesapp import views

    request = rf.get("/somewhere/")
    request.user = rep
    forbidden = views.error_403(request)
    assert forbidden.status_code == 403
    assert "403" in forbidden.content.decode()
    broken = views.error_500(request)
    assert broken.status_code == 500
    assert "500" in broken.content.decode()


def test_an_unexpected_error_shows_the_500_page(client, rep, settings):
    # Given a page that fails (the admin's change view for a user id that breaks the query)
    client.raise_request_exception = False
    client.force_login(rep)
    from django.urls import path

    import salesapp.urls

    def boom(request):
        raise RuntimeError("kaboom")

    settings.ROOT_URLCONF = type("BoomUrls", (), {
        "urlpatterns": [path("boom/", boom), *salesapp.urls.urlpatterns],
        "handler500": "salesapp.views.error_500",
    })
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "kaboom" not in response.content.decode()
    assert "500" in response.content.decode()


def test_an_unknown_api_url_answers_404_in_the_json_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_an_unexpected_api_error_answers_500_in_the_json_error_shape(client, settings):
    from django.urls import path

    import salesapp.urls

    def boom(request):
        raise RuntimeError("kaboom")

    client.raise_request_exception = False
    settings.ROOT_URLCONF = type("BoomUrls", (), {
        "urlpatterns": [path("api/v1/boom/", boom), *salesapp.urls.urlpatterns],
        "handler500": "salesapp.views.error_500",
    })
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "kaboom" not in response.content.decode()
