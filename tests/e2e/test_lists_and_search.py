"""In a real browser, as a rep: find a contact from the top bar, sort deals by amount, save and reopen a view,
and read what a conversion made, by name."""

from decimal import Decimal

import pytest

from leads import services as lead_services
from opportunities.services import contacts
from tests.opportunities.factories import AccountFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.browser
PASSWORD = "browser-pass-123"


def _sign_in(page, live_server, email):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _amounts(page):
    return [Decimal(cell) for cell in page.locator("[data-testid=deal-list] td[data-amount]").evaluate_all(
        "cells => cells.map(c => c.dataset.amount)")]


def test_a_rep_types_three_letters_of_a_contact_in_the_top_bar_and_opens_the_contact(
        live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep whose account has a contact named Philippa Quorn
    rep = UserFactory(email="rep@test.example", role="sales_rep", password=PASSWORD)
    account = AccountFactory(name="Larkspur Mills", owner=rep)
    contacts.contact_create(actor=rep, account=account, first_name="Philippa", last_name="Quorn",
                            email="pq@larkspur.example")
    page = browser_page
    _sign_in(page, live_server, "rep@test.example")
    # When she types "Quo" in the top bar's search box
    page.locator("#global-search").fill("Quo")
    suggestion = page.locator("#global-search-suggestions a[data-kind=contact]").first
    expect(suggestion).to_contain_text("Philippa Quorn")
    # And opens the suggestion
    suggestion.click()
    # Then she is on the contact's page, which names the account
    expect(page.get_by_role("heading", name="Philippa Quorn")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Larkspur Mills")


def test_a_rep_sorts_the_deals_list_by_amount_both_ways(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep with three open deals of different amounts
    rep = UserFactory(email="rep@test.example", role="sales_rep", password=PASSWORD)
    for name, amount in [("Mid deal", 5000), ("Big deal", 90000), ("Small deal", 700)]:
        OpportunityFactory(name=name, owner=rep, amount=amount)
    page = browser_page
    _sign_in(page, live_server, "rep@test.example")
    page.goto(live_server.url + "/opportunities/")
    # When she clicks the Amount header, the smallest comes first
    page.get_by_role("link", name="Amount").click()
    expect(page.locator("th[data-column=amount]")).to_have_attribute("aria-sort", "ascending")
    assert _amounts(page) == [700, 5000, 90000]
    # And when she clicks it again, the largest comes first
    page.get_by_role("link", name="Amount").click()
    expect(page.locator("th[data-column=amount]")).to_have_attribute("aria-sort", "descending")
    assert _amounts(page) == [90000, 5000, 700]


def test_a_rep_saves_a_view_and_reopens_it_from_the_list_page(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep with a big and a small deal
    rep = UserFactory(email="rep@test.example", role="sales_rep", password=PASSWORD)
    OpportunityFactory(name="Big deal", owner=rep, amount=90000)
    OpportunityFactory(name="Small deal", owner=rep, amount=700)
    page = browser_page
    _sign_in(page, live_server, "rep@test.example")
    # When she sorts by amount, largest first, and saves that as "Biggest first"
    page.goto(live_server.url + "/opportunities/?ordering=-amount")
    page.get_by_test_id("saved-views").click()
    page.get_by_placeholder("Save this view as…").fill("Biggest first")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("saved-views")).to_have_text("View: Biggest first")
    # And later opens the plain list and picks the view
    page.goto(live_server.url + "/opportunities/")
    page.get_by_test_id("saved-views").click()
    page.get_by_role("link", name="Biggest first").click()
    # Then the list is sorted as she saved it
    expect(page.get_by_test_id("saved-views")).to_have_text("View: Biggest first")
    assert _amounts(page) == [90000, 700]


def test_after_converting_a_lead_the_result_names_the_account_contact_and_deal(
        live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep with a qualified lead from Orbit Cloud
    rep = UserFactory(email="rep@test.example", role="sales_rep", password=PASSWORD)
    lead = lead_services.lead_create(actor=rep, email="dev@orbit.example", first_name="Dev", last_name="Patel",
                                     company="Orbit Cloud", assigned_to=rep)
    lead_services.lead_transition(actor=rep, lead=lead, to_status="contacted")
    lead_services.lead_qualify(actor=rep, lead=lead)
    page = browser_page
    _sign_in(page, live_server, "rep@test.example")
    # When she converts it into a deal named "Orbit platform"
    page.goto(f"{live_server.url}/leads/{lead.pk}/convert/")
    page.locator("#id_opportunity_name").fill("Orbit platform")
    page.get_by_role("button", name="Convert").click()
    # Then the message and the lead's page name the account, the contact and the deal, each a link
    alert = page.locator(".alert-success")
    expect(alert).to_contain_text("account Orbit Cloud, contact Dev Patel, deal Orbit platform")
    conversion = page.get_by_test_id("conversion")
    expect(conversion).not_to_contain_text("#")
    conversion.get_by_role("link", name="Dev Patel").click()
    expect(page.get_by_role("heading", name="Dev Patel")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Orbit platform")


def test_slash_opens_the_palette_with_quick_actions_and_recent_records(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    # Given a rep who has opened one of her deals
    rep = UserFactory(email="rep@test.example", role="sales_rep", password=PASSWORD)
    deal = OpportunityFactory(name="Harbour renewal", owner=rep, amount=1200)
    page = browser_page
    _sign_in(page, live_server, "rep@test.example")
    page.goto(f"{live_server.url}/opportunities/{deal.pk}/")
    page.goto(live_server.url + "/")
    # When she presses "/" on the home page
    page.keyboard.press("/")
    # Then the palette offers the quick actions and the deal she opened
    results = page.get_by_test_id("palette-results")
    expect(results.get_by_role("link", name="New lead")).to_be_visible()
    expect(results.get_by_role("link", name="Log a call")).to_be_visible()
    expect(results.locator("a[data-recent]")).to_contain_text("Harbour renewal")
    # And Ctrl-K, typing "new deal" and Enter opens the new deal form
    page.keyboard.press("Escape")
    page.keyboard.press("Control+k")
    page.locator("#palette-input").fill("new deal")
    expect(results.locator("a.palette-item").first).to_have_text("New deal")
    page.locator("#palette-input").press("Enter")
    expect(page).to_have_url(f"{live_server.url}/opportunities/new/")
