"""UI pages: what each role sees, the board's keyboard stage move, closing errors, forecast forms."""

import pytest
from django.urls import reverse

from opportunities.models import ForecastAdjustment, ForecastSubmission, StageHistory
from tests.opportunities.factories import OpportunityFactory

PAGES = ["opportunities:account-list", "opportunities:list", "opportunities:board", "opportunities:forecast"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_navigation_pages_render_for_every_role(client, admin_user, manager, rep, viewer, name):  # noqa: PLR0917
    OpportunityFactory(owner=rep, name="Visible deal")
    for user in (admin_user, manager, rep, viewer):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_detail_pages_show_only_visible_records(client, rep, other_rep, manager):
    opp = OpportunityFactory(owner=rep, name="Secret deal")
    client.force_login(other_rep)
    assert client.get(reverse("opportunities:detail", args=[opp.pk])).status_code == 404
    assert client.get(reverse("opportunities:account-detail", args=[opp.account_id])).status_code == 404
    assert "Secret deal" not in client.get(reverse("opportunities:list")).content.decode()
    assert "Secret deal" not in client.get(reverse("opportunities:board")).content.decode()
    client.force_login(manager)
    page = client.get(reverse("opportunities:detail", args=[opp.pk])).content.decode()
    assert "Secret deal" in page
    assert 'id="intelligence-panel"' in page


@pytest.mark.django_db
def test_board_stage_select_moves_card_and_updates_totals(client, rep):
    opp = OpportunityFactory(owner=rep, amount=1234)
    client.force_login(rep)
    board = client.get(reverse("opportunities:board")).content.decode()
    assert f'id="stage-{opp.pk}"' in board
    resp = client.post(reverse("opportunities:stage", args=[opp.pk]), {"stage": "proposal", "from": "board"},
                       HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200
    proposal_total = html.split('data-testid="total-proposal"')[1].split("</div>")[0]
    assert "1,234" in proposal_total
    assert StageHistory.objects.filter(opportunity=opp, to_stage="proposal").exists()


@pytest.mark.django_db
def test_close_lost_without_reason_shows_error_on_reason(client, rep):
    opp = OpportunityFactory(owner=rep)
    client.force_login(rep)
    resp = client.post(reverse("opportunities:close", args=[opp.pk]), {"outcome": "lost"})
    assert resp.status_code == 400
    assert 'data-field="reason"' in resp.content.decode()
    resp = client.post(reverse("opportunities:close", args=[opp.pk]), {"outcome": "won"})
    assert resp.status_code == 302
    assert "Closed won" in client.get(reverse("opportunities:detail", args=[opp.pk])).content.decode()


@pytest.mark.django_db
def test_account_form_warns_about_duplicates(client, rep):
    client.force_login(rep)
    client.post(reverse("opportunities:account-create"), {"name": "Globex GmbH", "owner": rep.pk})
    resp = client.post(reverse("opportunities:account-create"), {"name": "GLOBEX", "owner": rep.pk})
    assert resp.status_code == 200
    assert "A similar account exists" in resp.content.decode()
    resp = client.post(reverse("opportunities:account-create"), {"name": "GLOBEX", "owner": rep.pk,
                                                                 "allow_duplicate": "on"})
    assert resp.status_code == 302


@pytest.mark.django_db
def test_forecast_submit_and_adjust_from_the_page(client, manager, rep):
    OpportunityFactory(owner=rep, stage="negotiation", expected_close_date="2026-02-01", amount=5000)
    client.force_login(manager)
    page = client.get(reverse("opportunities:forecast") + "?period=Q1_2026").content.decode()
    assert "5,000" in page
    client.post(reverse("opportunities:forecast") + "?period=Q1_2026",
                {"action": "submit", "commit": "4000", "best_case": "6000", "notes": "ok"})
    assert ForecastSubmission.objects.get(user=manager).commit == 4000
    client.post(reverse("opportunities:forecast-adjust"), {"user": rep.pk, "period": "Q1_2026", "category": "commit",
                                                            "amount": "3000", "reason": "risky"})
    assert ForecastAdjustment.objects.get(user=rep).adjusted_by == manager
    client.force_login(rep)
    assert client.post(reverse("opportunities:forecast-adjust"), {}).status_code == 403


@pytest.mark.django_db
def test_forecast_page_rolls_up_a_territory(client, admin_user, rep):
    from opportunities.services import deals
    from tests.territories.factories import TerritoryFactory

    parent = TerritoryFactory(name="APAC")
    child = TerritoryFactory(name="ANZ", parent=parent, model=parent.model)
    deal = OpportunityFactory(owner=rep, stage="negotiation", expected_close_date="2026-02-01", amount=8765)
    deals.opportunity_update(actor=admin_user, opportunity=deal, territory=child)
    client.force_login(admin_user)
    page = client.get(reverse("opportunities:forecast") + f"?period=Q1_2026&territory={parent.pk}").content.decode()
    assert 'data-testid="territory-forecast"' in page
    assert "8,765" in page.split('data-testid="territory-forecast"')[1]
