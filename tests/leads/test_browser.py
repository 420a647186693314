"""In a real browser: a manager captures a lead, sees where it was routed and why, and converts it."""

import pytest

from tests.leads.factories import LeadFactory, make_territory
from tests.salesapp.factories import PicklistValueFactory, UserFactory

pytestmark = pytest.mark.browser


def test_capture_route_qualify_and_convert_a_lead(live_server, transactional_db, browser_page):
    page = browser_page
    from playwright.sync_api import expect

    # Given a manager, a rep who works US West Tech, and an existing lead from the same company
    manager = UserFactory(email="maria@test.example", first_name="Maria", role="sales_manager", password="pass-12345")
    jane = UserFactory(email="jane@test.example", first_name="Jane", last_name="West", role="sales_rep",
                       manager=manager)
    make_territory("US West Tech", members=[jane], countries=["US"], states=["CA"], industry="technology")
    PicklistValueFactory(kind="industry", value="technology")
    LeadFactory(email="cara@northwind.example", first_name="Cara", last_name="Ng", company="Northwind",
                assigned_to=jane)
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill("maria@test.example")
    page.get_by_label("Password").fill("pass-12345")
    page.get_by_role("button", name="Sign in").click()
    # When she opens the new-lead form and types an email that is already known, she is warned at once
    page.goto(live_server.url + "/leads/new/")
    page.locator("#id_email").fill("CARA@northwind.example")
    page.locator("#id_phone").focus()
    expect(page.get_by_test_id("duplicate-warning")).to_contain_text("same email")
    # And when she enters a new person in California in technology and saves
    page.locator("#id_email").fill("dev@orbit.example")
    page.locator("#id_first_name").fill("Dev")
    page.locator("#id_last_name").fill("Patel")
    page.locator("#id_company").fill("Orbit Cloud")
    page.locator("#id_industry").select_option("technology")
    page.locator("#id_country").select_option("US")
    expect(page.locator("#id_state option[value=CA]")).to_have_text("California")
    page.locator("#id_state").select_option("CA")
    page.get_by_role("button", name="Save").click()
    # Then the lead page says it went to Jane in US West Tech, and why
    expect(page.get_by_test_id("assignment-reason")).to_contain_text("territory US West Tech: ")
    expect(page.get_by_test_id("assignment-reason")).to_contain_text("state CA")
    # And she contacts, qualifies and converts it
    page.get_by_role("button", name="Contact", exact=True).click()
    page.get_by_role("button", name="Qualify", exact=True).click()
    page.get_by_role("link", name="Convert", exact=True).click()
    page.locator("#id_amount").fill("48000")
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_test_id("lead-status").first).to_have_text("Converted")
    expect(page.get_by_test_id("conversion")).to_contain_text("account Orbit Cloud")
    expect(page.get_by_test_id("conversion")).to_contain_text("contact Dev Patel")
    expect(page.get_by_test_id("conversion")).not_to_contain_text("#")
