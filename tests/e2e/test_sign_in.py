"""In a real browser: a user signs in and sees the home page with their email in the navbar."""

import os

import pytest

from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.browser


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
