"""Forecast roll-ups over a three-level hierarchy, manager adjustments, submissions and accuracy."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from opportunities.models import ForecastSnapshot
from opportunities.selectors import forecast_accuracy, forecast_rollup
from opportunities.services import deals, forecasts
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory

D = Decimal


@pytest.fixture
def org(db):
    vp = UserFactory(role="sales_manager", email="vp@test.example")
    mgr = UserFactory(role="sales_manager", manager=vp, email="mgr@test.example")
    a = UserFactory(role="sales_rep", manager=mgr, email="a@test.example")
    b = UserFactory(role="sales_rep", manager=mgr, email="b@test.example")
    c = UserFactory(role="sales_rep", manager=vp, email="c@test.example")
    q1 = date(2026, 2, 15)
    # a: 1000 won, 2000 commit (negotiation), 500 pipeline
    won = OpportunityFactory(owner=a, amount=1000, stage="negotiation", expected_close_date=q1)
    deals.opportunity_close(actor=a, opportunity=won, outcome="won", close_date=q1)
    OpportunityFactory(owner=a, amount=2000, stage="negotiation", expected_close_date=q1)
    OpportunityFactory(owner=a, amount=500, stage="discovery", expected_close_date=q1)
    # b: 3000 best case (proposal), one deal in another quarter that must not count
    OpportunityFactory(owner=b, amount=3000, stage="proposal", expected_close_date=q1)
    OpportunityFactory(owner=b, amount=9999, stage="proposal", expected_close_date=date(2026, 5, 1))
    # c: 4000 won
    won_c = OpportunityFactory(owner=c, amount=4000, stage="proposal", expected_close_date=q1)
    deals.opportunity_close(actor=c, opportunity=won_c, outcome="won", close_date=date(2026, 3, 31))
    return {"vp": vp, "mgr": mgr, "a": a, "b": b, "c": c}


def row_of(rollup, user):
    return next(r for r in rollup["rows"] if r["user_id"] == user.pk and not r["own_only"])


def test_rollup_sums_each_subtree(org):
    rollup = forecast_rollup(user=org["vp"], period="Q1_2026")
    mgr_row = row_of(rollup, org["mgr"])
    assert (mgr_row["closed_won"], mgr_row["commit"], mgr_row["best_case"], mgr_row["pipeline"]) == (
        D("1000"), D("2000"), D("3000"), D("500"))
    assert mgr_row["weighted"] == D("2000") * D("0.75") + D("3000") * D("0.5") + D("500") * D("0.1")
    total = rollup["total"]
    assert (total["closed_won"], total["commit"], total["best_case"]) == (D("5000"), D("2000"), D("3000"))
    # the manager sees the same numbers for their own team
    assert forecast_rollup(user=org["mgr"], period="Q1_2026")["total"]["commit"] == D("2000")
    # a month is a period too
    assert forecast_rollup(user=org["vp"], period="2026-03")["total"]["closed_won"] == D("4000")


def test_adjustments_replace_figures_above_and_keep_history(org):
    forecasts.forecast_adjust(actor=org["mgr"], user=org["a"], period="Q1_2026", category="commit", amount=1500,
                             reason="Slipping")
    forecasts.forecast_adjust(actor=org["mgr"], user=org["a"], period="Q1_2026", category="commit", amount=1800,
                             reason="Back on track")
    mgr_view = forecast_rollup(user=org["mgr"], period="Q1_2026")
    a_row = row_of(mgr_view, org["a"])
    assert (a_row["commit"], a_row["adjusted_commit"]) == (D("2000"), D("1800"))
    assert a_row["adjustments"]["commit"]["reason"] == "Back on track"
    assert mgr_view["total"]["adjusted_commit"] == D("1800")

    forecasts.forecast_adjust(actor=org["vp"], user=org["mgr"], period="Q1_2026", category="commit", amount=1000,
                             reason="Team is optimistic")
    vp_view = forecast_rollup(user=org["vp"], period="Q1_2026")
    assert row_of(vp_view, org["mgr"])["adjusted_commit"] == D("1000")
    assert vp_view["total"]["commit"] == D("2000")
    assert vp_view["total"]["adjusted_commit"] == D("1000")


def test_only_managers_adjust_their_reports(org):
    with pytest.raises(Exception, match="forecast:adjust"):
        forecasts.forecast_adjust(actor=org["a"], user=org["b"], period="Q1_2026", category="commit", amount=1,
                                 reason="x")
    with pytest.raises(ValidationError) as err:
        forecasts.forecast_adjust(actor=org["mgr"], user=org["c"], period="Q1_2026", category="commit", amount=1,
                                 reason="x")
    assert "user" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        forecasts.forecast_adjust(actor=org["mgr"], user=org["a"], period="Q1_2026", category="commit", amount=1,
                                 reason="")
    assert "reason" in err.value.message_dict


def test_accuracy_after_the_period_closes(org):
    march = datetime(2026, 3, 1, 9, tzinfo=UTC)
    forecasts.forecast_submit(actor=org["a"], period="Q1_2026", commit=2000, best_case=2500, submitted_at=march)
    forecasts.forecast_submit(actor=org["mgr"], period="Q1_2026", commit=1000, best_case=5000, submitted_at=march)
    # submitted after the period ended: not the call that counts
    late = forecasts.forecast_submit(actor=org["c"], period="Q1_2026", commit=4000, best_case=4000)
    assert late.submitted_at.date() > date(2026, 3, 31)
    acc = {r["user_id"]: r for r in forecast_accuracy(user=org["mgr"], period="Q1_2026")}
    assert org["c"].pk not in acc
    assert acc[org["a"].pk]["accuracy"] == D("50.0")  # won 1000 against 2000
    assert acc[org["mgr"].pk]["accuracy"] == D("100.0")  # team won 1000 against 1000
    assert forecast_accuracy(user=org["vp"], period="Q4_2099") == []


def test_submission_through_api_shows_beside_rollup(api, org):
    client = api.as_user(org["mgr"])
    resp = client.post("/api/v1/forecasts/", {"period": "Q1_2026", "commit": "2100", "best_case": "5000",
                                              "notes": "two big deals"}, format="json")
    assert resp.status_code == 201, resp.json()
    got = client.get("/api/v1/forecasts/?period=Q1_2026").json()
    assert got["total"]["commit"] == "2000.00"
    assert got["submission"]["commit"] == "2100.00"
    assert got["submissions"][0]["notes"] == "two big deals"
    bad = client.post("/api/v1/forecasts/", {"period": "2026Q1", "commit": "1", "best_case": "1"}, format="json")
    assert "period" in bad.json()["error"]["fields"]
    adj = client.post("/api/v1/forecasts/adjustments/", {"user_id": org["a"].pk, "period": "Q1_2026",
                                                         "category": "best_case", "amount": "100", "reason": "r"},
                      format="json")
    assert adj.status_code == 201, adj.json()
    assert api.as_user(org["a"]).post("/api/v1/forecasts/adjustments/", {}, format="json").status_code == 403
    assert api.as_user(org["c"]).get(f"/api/v1/forecasts/?period=Q1_2026&user={org['mgr'].pk}").status_code == 404


def test_weekly_snapshot_is_idempotent(org):
    forecasts.forecast_snapshot_take(today=date(2026, 2, 18), period_names=["Q1_2026"])
    forecasts.forecast_snapshot_take(today=date(2026, 2, 19), period_names=["Q1_2026"])
    team = ForecastSnapshot.objects.get(user=org["vp"], scope="team", period="Q1_2026")
    assert team.week_start == date(2026, 2, 16)
    assert team.closed_won == D("5000")
    assert ForecastSnapshot.objects.filter(user=org["a"], scope="personal").count() == 1


def test_territory_subtree_rollup_and_snapshots_api(api, org, admin_user):
    from tests.territories.factories import TerritoryFactory

    parent = TerritoryFactory(name="EMEA")
    child = TerritoryFactory(name="DACH", parent=parent, model=parent.model)
    deal = OpportunityFactory(owner=org["a"], amount=777, stage="negotiation", expected_close_date=date(2026, 2, 2))
    deals.opportunity_update(actor=admin_user, opportunity=deal, territory=child)
    got = api.as_user(admin_user).get(f"/api/v1/forecasts/?period=Q1_2026&territory={parent.pk}").json()
    assert got["territory"]["commit"] == "777.00"
    forecasts.forecast_snapshot_take(today=date(2026, 2, 18), period_names=["Q1_2026"])
    snaps = api.as_user(org["mgr"]).get(f"/api/v1/forecasts/snapshots/?period=Q1_2026&user={org['a'].pk}").json()
    assert [s["week_start"] for s in snaps] == ["2026-02-16"]
    assert api.as_user(org["c"]).get(
        f"/api/v1/forecasts/snapshots/?period=Q1_2026&user={org['a'].pk}").status_code == 404
