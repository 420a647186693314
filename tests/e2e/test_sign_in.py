"""In a real browser: a user signs in and sees the home page with their email in the navbar."""

import os
from pathlib import Path

import pytest

from tests.salesapp.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Debian's chromium is not installed at {CHROMIUM}"),
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls (the live server runs in its own thread) must still be allowed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def test_a_rep_signs_in_and_sees_the_home_page(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep with a password
    UserFactory(email="jane.west@test.example", first_name="Jane", role="sales_rep", password="browser-pass-123")
    page = browser_page
    # When she opens the app, she is sent to the sign-in page
    page.goto(live_server.url + "/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # And she signs in with her email and password
    page.get_by_label("Email").fill("jane.west@test.example")
    page.get_by_label("Password").fill("browser-pass-123")
    page.get_by_role("button", name="Sign in").click()
    # Then she sees the home page, greeted by name, with her email in the navbar
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Welcome, Jane")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text("jane.west@test.example")
    expect(page.locator("nav")).not_to_contain_text("Admin")


def test_a_wrong_password_keeps_her_on_the_sign_in_page(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    UserFactory(email="jane.west@test.example", role="sales_rep", password="browser-pass-123")
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill("jane.west@test.example")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").or_(page.locator(".alert-danger"))).to_contain_text("did not match")
    assert os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] == "true"
