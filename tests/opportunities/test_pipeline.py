"""Pipeline summary: equal to a direct SQL aggregate, per owner, team and territory, fresh after changes."""

import pytest
from django.db import connection

from opportunities.selectors import pipeline_summary
from opportunities.services import deals
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory


def sql_summary(owner_ids):
    marks = ",".join(["%s"] * len(owner_ids))
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT stage, COUNT(*), COALESCE(SUM(amount), 0), AVG(probability) FROM opportunities_opportunity "
            f"WHERE owner_id IN ({marks}) AND stage IN ('discovery','qualification','proposal','negotiation') "
            f"GROUP BY stage", owner_ids)
        return {r[0]: (r[1], float(r[2]), round(float(r[3]), 1)) for r in cur.fetchall()}


def as_map(summary):
    return {s["stage"]: (s["count"], float(s["total_amount"]), s["average_probability"])
            for s in summary["stages"] if s["count"]}


@pytest.mark.django_db
def test_manager_summary_is_sum_of_reports_and_changes_on_next_request(
        api, manager, rep, django_capture_on_commit_callbacks):
    rep2 = UserFactory(role="sales_rep", manager=manager)
    with django_capture_on_commit_callbacks(execute=True):
        team_deals = [OpportunityFactory(owner=rep, amount=1000 * (i + 1)) for i in range(3)]
        OpportunityFactory(owner=rep2, amount=500, stage="proposal")
        OpportunityFactory(owner=UserFactory(role="sales_rep"), amount=99)  # outside the team
    client = api.as_user(manager)
    first = client.get(f"/api/v1/pipeline/summary/?team={manager.pk}").json()
    assert as_map(first) == sql_summary([manager.pk, rep.pk, rep2.pk])
    assert float(first["total_amount"]) == 6500
    assert client.get(f"/api/v1/pipeline/summary/?team={manager.pk}").json()["cached"] is True

    with django_capture_on_commit_callbacks(execute=True):
        deals.opportunity_update(actor=rep, opportunity=team_deals[0], stage="negotiation")
        deals.opportunity_close(actor=rep, opportunity=team_deals[1], outcome="won")
    second = client.get(f"/api/v1/pipeline/summary/?team={manager.pk}").json()
    assert second["cached"] is False
    assert as_map(second) == sql_summary([manager.pk, rep.pk, rep2.pk])
    assert second["stages"][3]["count"] == 1  # negotiation

    rep_view = api.as_user(rep).get(f"/api/v1/pipeline/summary/?owner={rep.pk}").json()
    assert as_map(rep_view) == sql_summary([rep.pk])


@pytest.mark.django_db
def test_summary_only_counts_visible_deals(rep, other_rep):
    OpportunityFactory(owner=other_rep, amount=700)
    assert pipeline_summary(user=rep, owner=other_rep.pk)["count"] == 0
