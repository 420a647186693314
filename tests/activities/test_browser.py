"""In a real browser: a rep logs a call from a deal's timeline panel (htmx) and ticks off a task."""

import pytest

from activities import services
from tests.activities.factories import AccountFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.browser


def test_rep_logs_a_call_and_completes_a_task_without_leaving_the_page(live_server, transactional_db, sql_store,
                                                                         browser_page):
    from playwright.sync_api import expect

    rep = UserFactory(email="jane@test.example", role="sales_rep", password="browser-pass-123", first_name="Jane")
    deal = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep), name="Big deal")
    services.activity_log(actor=rep, type="task", subject="Send the proposal", opportunity_id=deal.pk)
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.get_by_label("Email").fill("jane@test.example")
    page.get_by_label("Password").fill("browser-pass-123")
    page.get_by_role("button", name="Sign in").click()
    # The deal's timeline page loads the panel with htmx
    page.goto(f"{live_server.url}/activities/timeline/opportunity/{deal.pk}/")
    panel = page.get_by_test_id("activity-timeline")
    expect(panel).to_contain_text("Send the proposal")
    # Log a call through the quick form
    form = page.get_by_test_id("log-form-call")
    form.locator("input[name=subject]").fill("Pricing call")
    form.locator("input[name=duration_minutes]").fill("20")
    form.get_by_role("button", name="Log call").click()
    expect(page.get_by_text("Call logged.")).to_be_visible()
    expect(page.get_by_test_id("timeline-entry").first).to_contain_text("Pricing call")
    assert page.url.endswith(f"/activities/timeline/opportunity/{deal.pk}/")  # never left the page
    # A negative duration shows the field's error in place
    form = page.get_by_test_id("log-form-call")
    form.locator("input[name=duration_minutes]").fill("-5")
    form.get_by_role("button", name="Log call").click()
    expect(page.get_by_test_id("error-duration_minutes")).to_contain_text("negative")
    # Tick off the task on My tasks
    page.goto(f"{live_server.url}/activities/tasks/")
    row = page.get_by_test_id("task-row").filter(has_text="Send the proposal")
    row.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("task-row").filter(has_text="Send the proposal")).to_contain_text("done")
