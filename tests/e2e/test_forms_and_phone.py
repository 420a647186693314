"""In a real browser, as a rep: a lead and an activity are entered by picking from lists (country,
state, industry, source, owner, call outcome, assignee), never by typing a code or an id; and on a
390 px phone the leads list fits the screen, its filters folded behind a button.
"""

import pytest

from tests.e2e.session import sign_in
from tests.leads.factories import LeadFactory
from tests.salesapp.factories import PicklistValueFactory, UserFactory

pytestmark = pytest.mark.browser


def test_a_rep_creates_a_lead_and_logs_a_call_with_pickers(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep, and the industry and source lists the admin keeps
    rep = UserFactory(email="jane@test.example", first_name="Jane", last_name="West", role="sales_rep")
    PicklistValueFactory(kind="industry", value="healthcare", label="Healthcare")
    PicklistValueFactory(kind="source", value="referral", label="Referral")
    page = browser_page
    sign_in(page, live_server, rep)
    # When she opens the new-lead form, types the person's name and email, and picks everything else
    page.goto(live_server.url + "/leads/new/")
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Email *").fill("noor@harbor-health.example")
    page.get_by_label("Industry").select_option(label="Healthcare")
    page.get_by_label("Source").select_option(label="Referral")
    page.get_by_label("Country").select_option(label="Canada")
    # the state list follows the country
    state = page.get_by_label("State or region")
    expect(state.locator("option", has_text="Ontario")).to_have_count(1)
    state.select_option(label="Ontario")
    page.get_by_label("Assigned to").select_option(label=str(rep))
    page.get_by_role("button", name="Save").click()
    # Then the lead page shows what she picked
    expect(page.get_by_role("heading", name="Noor Haddad")).to_be_visible()
    lead_page = page.url
    # And she logs a call from the lead's timeline, picking its outcome
    form = page.get_by_test_id("log-form-call")
    form.get_by_label("Subject").fill("First call")
    form.get_by_label("Outcome").select_option(label="Connected")
    form.get_by_role("button", name="Log call").click()
    expect(page.get_by_text("Call logged.")).to_be_visible()
    expect(page.get_by_test_id("timeline-entries")).to_contain_text("First call")
    # And a task for herself, picking its assignee
    page.get_by_test_id("log-tab-task").click()
    task = page.get_by_test_id("log-form-task")
    task.get_by_label("Subject").fill("Send the case study")
    task.get_by_label("Assignee").select_option(label="Me")
    task.get_by_role("button", name="Log task").click()
    expect(page.get_by_test_id("timeline-entries")).to_contain_text("Send the case study")
    # And the saved lead keeps the picked codes
    page.goto(lead_page)
    expect(page.locator("main")).to_contain_text("Healthcare".lower())
    expect(page.locator("main")).to_contain_text("CA")


def test_the_leads_list_fits_a_390_px_phone(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep with leads whose names and companies are long
    rep = UserFactory(email="jane@test.example", role="sales_rep")
    for i in range(12):
        LeadFactory(assigned_to=rep, first_name=f"Maximiliane{i}", last_name="Featherstonehaugh-Brightwater",
                    company="International Business Consolidated Holdings Incorporated")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, rep)
    # When she opens the leads list on her phone
    page.goto(live_server.url + "/leads/")
    # Then nothing scrolls sideways
    expect(page.get_by_test_id("lead-table")).to_contain_text("Maximiliane0")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == 390, widths
    # And each lead is a card naming its fields, the filters folded until she asks for them
    expect(page.get_by_test_id("lead-table").locator("td[data-label=Company]").first).to_be_visible()
    filters = page.get_by_test_id("lead-filters")
    expect(filters).to_be_hidden()
    page.get_by_role("button", name="Filters").click()
    expect(filters).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_top_bar_fits_one_line_at_1440_px_and_opens_the_user_menu(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given an admin, who has every item of the top bar
    admin = UserFactory(email="ada@test.example", first_name="Ada", role="admin")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, admin)
    page.goto(live_server.url + "/")
    # Then every item of the bar sits on one line
    tops = page.evaluate("() => Array.from(document.querySelectorAll('nav .nav-link, nav #global-search, "
                         "nav .dropdown-toggle')).map(e => Math.round(e.getBoundingClientRect().top))")
    assert len(tops) >= 11 and max(tops) - min(tops) <= 8, tops
    # And the user menu, reached from the keyboard, offers the profile, the password, the API and signing out
    page.get_by_role("button", name="Your account: ada@test.example").focus()
    page.keyboard.press("Enter")
    menu = page.get_by_test_id("user-menu")
    for item in ("Profile", "Change password", "API access", "Sign out"):
        expect(menu.get_by_text(item)).to_be_visible()
    menu.get_by_role("link", name="API access").click()
    expect(page.get_by_test_id("api-access")).to_contain_text("Authorization: Bearer")
    expect(page.get_by_test_id("api-access")).to_contain_text("ada@test.example")
