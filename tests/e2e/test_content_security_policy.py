"""In a real browser, under the Content-Security-Policy: the pages whose scripts moved to static/js/ still work,
and the browser reports no violation of the policy (no inline script, handler or style element left)."""

import pytest

pytestmark = pytest.mark.browser

# Every violation the browser reports (the policy is enforced: what violates it did not run or apply).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _open(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == [], url


def _charts_drawn(page) -> list:
    return page.evaluate("Array.from(document.querySelectorAll('canvas')).map(c => !!Chart.getChart(c))")


def test_pages_with_charts_boards_and_forms_work_under_the_policy(live_server, transactional_db, browser_page):
    from django.core.management import call_command
    from playwright.sync_api import expect

    from territories.models import Territory

    # Given the demo data and its manager, signed in
    call_command("seed_demo", verbosity=0)
    page = browser_page
    page.add_init_script(RECORD_VIOLATIONS)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.dismiss())
    _open(page, live_server.url + "/login/")
    page.get_by_label("Email").fill("admin@demo.example")
    page.get_by_label("Password").fill("demo-admin-pass")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("current-user")).to_contain_text("admin@demo.example")
    base = live_server.url

    # The analytics charts are drawn, and changing the grouping submits the form
    _open(page, base + "/analytics/")
    assert _charts_drawn(page) and all(_charts_drawn(page))
    options = page.locator("#group_by option").evaluate_all("os => os.map(o => o.value)")
    with page.expect_navigation():
        page.locator("#group_by").select_option(options[-1])
    assert f"group_by={options[-1]}" in page.url
    # The quota dashboard's attainment chart is drawn
    _open(page, base + "/quotas/")
    assert all(_charts_drawn(page))
    # The forecast's trend chart, where snapshots exist, is drawn
    _open(page, base + "/forecast/")
    assert all(_charts_drawn(page))
    # The pipeline board's columns take dragged cards
    _open(page, base + "/pipeline/")
    assert page.evaluate("Array.from(document.querySelectorAll('.board-list[data-writable]')).every(el => el._sortable)")
    # The lead list's "select all" ticks every row, and htmx panels load on a lead's page
    _open(page, base + "/leads/")
    page.get_by_label("Select all").check()
    boxes = page.locator("input[name=ids]")
    assert boxes.count() > 0
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.locator("table a[href^='/leads/']").first.click()
    expect(page.locator("#lead-timeline")).not_to_contain_text("Loading the timeline", timeout=15_000)
    assert page.evaluate("window.__violations") == []
    # Deleting a territory asks first (the dialog is dismissed: nothing is deleted)
    territory = Territory.objects.order_by("pk").first()
    _open(page, base + f"/territories/{territory.pk}/")
    page.locator(f"form[action='/territories/{territory.pk}/delete/'] button").click()
    assert Territory.objects.filter(pk=territory.pk).exists()
    # Every page of the navigation, and a deal's and an account's page, open without a violation
    _open(page, base + "/")
    pages = page.locator("nav a.nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(pages) >= 8
    _open(page, base + "/opportunities/")
    pages.append(page.locator("table a[href^='/opportunities/']").first.get_attribute("href"))
    _open(page, base + "/accounts/")
    pages.append(page.locator("table a[href^='/accounts/']").first.get_attribute("href"))
    for url in pages:
        _open(page, base + url)
    # The API docs run from files
    _open(page, base + "/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible(timeout=15_000)
    assert page.evaluate("window.__violations") == []
    assert errors == []
