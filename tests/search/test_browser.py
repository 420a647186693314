"""In a real browser: the top bar suggests records as the user types, and the keyboard walks to one."""

import pytest

from tests.leads.factories import LeadFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.browser


def test_the_top_bar_suggests_as_you_type_and_opens_the_record(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    rep = UserFactory(email="ada@test.example", role="sales_rep", password="pass-12345")
    lead = LeadFactory(first_name="Katherine", last_name="Johnson", company="Langley Research", assigned_to=rep)
    LeadFactory(first_name="Katherine", last_name="Hidden", company="Elsewhere")  # not the rep's
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill("ada@test.example")
    page.get_by_label("Password").fill("pass-12345")
    page.get_by_role("button", name="Sign in").click()

    # When she types the first letters of a name in the top bar
    page.locator("#global-search").press_sequentially("kather", delay=30)
    # Then her lead is suggested under Leads, with the typed letters marked, and nobody else's
    suggestion = page.locator("a.search-suggestion")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_have_attribute("href", f"/leads/{lead.pk}/")
    expect(suggestion.locator("em").first).to_have_text("Kather")
    expect(page.locator("#global-search-suggestions")).to_contain_text("Leads")
    # And the arrow key and Enter open it
    page.locator("#global-search").press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + f"/leads/{lead.pk}/")
