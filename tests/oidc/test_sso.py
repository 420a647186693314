"""Single sign-on against a running OpenID provider (oidc-provider), in Chromium and through the API."""

import re

import pytest
import requests
from django.conf import settings
from django.utils.module_loading import import_string

from salesapp.models import User
from salesapp.oidc import REFRESH_AT, REFRESH_TOKEN

pytestmark = pytest.mark.browser


def _loopback_only(page):
    """The provider's pages @import web fonts: nothing leaves this machine."""
    page.route(re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)[:/])"), lambda route: route.abort())


def _sign_in_at_provider(page, login):
    from playwright.sync_api import expect

    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.locator("input[name=login]")).to_be_visible()  # the provider's own sign-in page
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any-password")
    page.get_by_role("button", name="Sign-in").click()


def _session(page, live_server):
    cookie = next(c for c in page.context.cookies(live_server.url) if c["name"] == settings.SESSION_COOKIE_NAME)
    return import_string(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])


def test_sso_sign_in_maps_the_group_to_a_role_and_the_providers_token_opens_the_api(
        oidc_provider, live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    _loopback_only(page)
    # Given Ada, in the provider's "sales-managers" group, who never used the app
    assert not User.objects.filter(email="ada@idp.example").exists()
    # When she clicks "Sign in with SSO" and signs in at the provider
    page.goto(f"{live_server.url}/login/")
    _sign_in_at_provider(page, "ada")
    # Then she lands on the home page as a sales manager, her account made from the provider's claims
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Ada")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("ada@idp.example · Sales manager")
    ada = User.objects.get(email="ada@idp.example")
    assert (ada.role, ada.last_name, ada.oidc_subject, ada.has_usable_password()) == (
        "sales_manager", "Lovelace", "ada", False)

    # And an API call with the provider's access token (a JWT for the API's audience) answers 200
    session = _session(page, live_server)
    tokens = requests.post(settings.OIDC_OP_TOKEN_ENDPOINT, data={
        "grant_type": "refresh_token", "refresh_token": session[REFRESH_TOKEN],
        "client_id": settings.OIDC_RP_CLIENT_ID, "client_secret": settings.OIDC_RP_CLIENT_SECRET}, timeout=10).json()
    access = tokens["access_token"]
    listed = requests.get(f"{live_server.url}/api/v1/leads/", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert listed.status_code == 200, listed.text
    forged = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    assert requests.get(f"{live_server.url}/api/v1/leads/", headers={"Authorization": f"Bearer {forged}"},
                        timeout=10).status_code == 401
    session = _session(page, live_server)
    session[REFRESH_TOKEN] = tokens["refresh_token"]  # the provider rotated it
    session.save()

    # When her group changes at the provider, her next sign-in brings the role along
    oidc_provider.set_user("ada", groups=["sales-admins"], family_name="King")
    # And signing out ends both sessions: the provider asks, then sends her back to our sign-in page
    page.get_by_test_id("current-user").get_by_role("button").click()  # the user menu
    page.get_by_test_id("user-menu").get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    _sign_in_at_provider(page, "ada")  # the provider asks for her sign-in again: its session ended too
    expect(page.get_by_test_id("current-user")).to_contain_text("ada@idp.example · Admin")
    assert User.objects.get(email="ada@idp.example").last_name == "King"

    # When the provider disables her, the next token refresh refuses her and she is signed out
    oidc_provider.set_user("ada", disabled=True)
    session = _session(page, live_server)
    session[REFRESH_AT] = 0  # her access token has expired
    session.save()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")


def test_a_newcomer_without_a_mapped_group_gets_the_default_role(
        oidc_provider, live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    _loopback_only(page)
    page.goto(f"{live_server.url}/login/")
    _sign_in_at_provider(page, "bob")
    expect(page.get_by_test_id("current-user")).to_contain_text("bob@idp.example · Read only")
