"""In a real browser: a manager allocates the team quota in the dialog and edits a rep's quota inline."""

import pytest

from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.browser


def test_a_manager_allocates_and_edits_quotas_on_the_plan(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    from quotas import services
    from salesapp.periods import current_quarter

    # Given a manager with three reps and a team quota for this quarter
    manager = UserFactory(email="maria@test.example", first_name="Maria", role="sales_manager",
                          password="browser-pass-123")
    for name in ("Ann", "Bob", "Cy"):
        UserFactory(email=f"{name.lower()}@test.example", first_name=name, last_name="Rep", role="sales_rep",
                    manager=manager)
    services.quota_create(actor=manager, user=manager, period=current_quarter().key, quota_amount=90000)
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill("maria@test.example")
    page.get_by_label("Password").fill("browser-pass-123")
    page.get_by_role("button", name="Sign in").click()
    # When she opens the plan and allocates evenly in the dialog
    page.goto(live_server.url + "/quotas/plan/")
    page.get_by_role("button", name="Allocate").click()
    dialog = page.locator("#allocate-modal")
    dialog.get_by_label("Evenly").check()
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.get_by_test_id("allocation-gap")).to_contain_text("fully allocated")
    dialog.get_by_role("button", name="Allocate").click()
    expect(dialog).to_contain_text("Allocated 90,000.00")
    dialog.get_by_role("button", name="Close").click()
    # Then every rep shows 30,000 on the plan
    table = page.get_by_test_id("plan-table")
    expect(table.locator("tr", has_text="Ann Rep")).to_contain_text("30,000.00")
    # And raising one rep's quota inline shows the team over-allocated
    table.locator("tr", has_text="Bob Rep").get_by_title("Edit").click()
    page.get_by_label("Quota amount").fill("40000")
    page.get_by_role("button", name="Save").click()
    expect(table.locator("tr", has_text="Maria")).to_contain_text("over-allocated by 10,000.00")
