"""In a real browser: a rep moves a deal on the pipeline board by dragging it, and with the keyboard."""

import pytest

from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory


def sign_in(page, url, email, password):
    page.goto(url + "/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_drag_and_keyboard_moves_update_columns(live_server, transactional_db, browser_page):
    from playwright.sync_api import expect

    from opportunities.models import Opportunity

    # Given a rep with one deal in discovery
    rep = UserFactory(email="board.rep@test.example", role="sales_rep", password="browser-pass-123")
    deal = OpportunityFactory(owner=rep, name="Drag me", amount=4321)
    page = browser_page
    sign_in(page, live_server.url, rep.email, "browser-pass-123")
    page.goto(live_server.url + "/pipeline/")
    expect(page.get_by_test_id("total-discovery")).to_contain_text("4,321")
    # When she drags the card onto the Proposal column
    page.locator(f'.board-card[data-id="{deal.pk}"]').drag_to(page.locator('.board-list[data-stage="proposal"]'))
    # Then the column totals follow and the deal is in proposal
    expect(page.get_by_test_id("total-proposal")).to_contain_text("4,321")
    expect(page.get_by_test_id("total-discovery")).to_contain_text("0 deals")
    assert Opportunity.objects.get(pk=deal.pk).stage_id == "proposal"
    # And with the keyboard alternative: the card's stage select
    page.get_by_label("Stage of Drag me").select_option("negotiation")
    expect(page.get_by_test_id("total-negotiation")).to_contain_text("4,321")
    assert Opportunity.objects.get(pk=deal.pk).stage_id == "negotiation"
