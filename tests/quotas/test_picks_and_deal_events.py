"""Whom a quota may be set for, and attainment that follows a won deal's changes at once (no hourly wait)."""

import datetime as dt
from decimal import Decimal

import pytest

from opportunities.models import Opportunity
from opportunities.services import deals as opportunity_services
from quotas.models import Quota
from salesapp.events import publish
from territories import services as territory_services
from tests.opportunities.factories import OpportunityFactory
from tests.quotas.factories import committed, deal_won, quota, team

pytestmark = pytest.mark.django_db
URL = "/api/v1/quotas/"
Q1 = dt.date(2026, 2, 10)


def attained(client, user) -> str:
    """What `user`'s Q1 revenue quota shows as attained, through the API."""
    rows = client.get(f"{URL}attainment/", {"period": "Q1_2026", "user": user.pk}).json()["quotas"]
    return rows[0]["attainment_amount"]


# --- whom a quota may be set for ------------------------------------------------------------------


def test_a_read_only_user_never_holds_a_quota(api, admin_user, viewer):
    response = api.as_user(admin_user).post(URL, {"user_id": viewer.pk, "period": "Q1_2026", "quota_amount": "10"})
    assert response.status_code == 400 and "user_id" in response.json()["error"]["fields"]
    assert not Quota.objects.exists()


def test_a_territory_the_manager_cannot_see_is_refused_naming_the_field(api, admin_user, manager):
    hidden = territory_services.territory_create(actor=admin_user, name="Elsewhere", countries=["DE"])
    response = api.as_user(manager).post(URL, {"territory_id": hidden.pk, "period": "Q1_2026",
                                               "quota_amount": "10"})
    assert response.status_code == 400 and "territory_id" in response.json()["error"]["fields"]


def test_a_territory_the_manager_owns_takes_a_quota(api, admin_user, manager):
    own = territory_services.territory_create(actor=admin_user, name="Mine", countries=["DE"], owner=manager)
    with committed():
        response = api.as_user(manager).post(URL, {"territory_id": own.pk, "period": "Q1_2026",
                                                   "quota_amount": "10"})
    assert response.status_code == 201 and response.json()["territory_id"] == own.pk


def test_the_plan_offers_and_accepts_only_people_the_manager_may_set_quotas_for(client, manager, rep, other_rep):
    client.force_login(manager)
    page = client.get("/quotas/plan/", {"period": "Q1_2026"}).content.decode()
    assert str(rep) in page and str(other_rep) not in page
    response = client.post(f"/quotas/plan/user/{other_rep.pk}/", {"period": "Q1_2026", "quota_amount": "5"})
    assert response.status_code == 404
    assert not Quota.objects.filter(user=other_rep).exists()


# --- a won deal's changes move attainment at once -------------------------------------------------


def test_changing_a_won_deals_amount_moves_attainment_at_once(api, manager, admin_user):
    # given a rep with a quota and a won deal of 4,000
    rep, *_ = team(manager)
    quota(admin_user, user=rep, amount=10000)
    quota(admin_user, user=manager, amount=50000)
    opp = deal_won(rep, 4000, Q1)
    client = api.as_user(manager)
    assert attained(client, rep) == "4000.00"
    # when the manager corrects its amount (opportunity.updated naming `amount`)
    with committed():
        opportunity_services.opportunity_update(actor=manager, opportunity=opp, amount=Decimal("6500"))
    # then the rep's and the manager's attainment show it on the next request
    assert attained(client, rep) == "6500.00"
    assert attained(client, manager) == "6500.00"


def test_giving_a_won_deal_to_another_rep_moves_it_between_their_quotas(api, manager, admin_user):
    rep, other, _ = team(manager)
    quota(admin_user, user=rep, amount=10000)
    quota(admin_user, user=other, amount=10000)
    opp = deal_won(rep, 3000, Q1)
    with committed():
        opportunity_services.opportunity_update(actor=manager, opportunity=opp, owner=other)
    client = api.as_user(manager)
    assert attained(client, rep) == "0.00"
    assert attained(client, other) == "3000.00"


def test_moving_a_won_deal_to_another_territory_moves_it_between_territory_quotas(admin_user, manager):
    rep, *_ = team(manager)
    west = territory_services.territory_create(actor=admin_user, name="West", countries=["DE"])
    east = territory_services.territory_create(actor=admin_user, name="East", countries=["FR"])
    west_quota = quota(admin_user, territory=west, amount=10000)
    east_quota = quota(admin_user, territory=east, amount=10000)
    opp = deal_won(rep, 2500, Q1, territory=west, actor=admin_user)
    assert Quota.objects.get(pk=west_quota.pk).attainment_amount == Decimal("2500.00")
    with committed():
        opportunity_services.opportunity_update(actor=admin_user, opportunity=opp, territory=east)
    assert Quota.objects.get(pk=west_quota.pk).attainment_amount == 0
    assert Quota.objects.get(pk=east_quota.pk).attainment_amount == Decimal("2500.00")


def test_a_won_deals_new_close_date_moves_it_to_the_other_period(admin_user, manager):
    # No service changes a won deal's close date yet; the event a future one publishes is applied already.
    rep, *_ = team(manager)
    q1 = quota(admin_user, user=rep, amount=10000, period="Q1_2026")
    q2 = quota(admin_user, user=rep, amount=10000, period="Q2_2026")
    opp = deal_won(rep, 1000, Q1)
    Opportunity.objects.filter(pk=opp.pk).update(actual_close_date=dt.date(2026, 4, 2))
    with committed():
        publish("opportunity.updated", {
            "opportunity_id": opp.pk, "owner_id": rep.pk, "territory_id": None, "stage": "closed_won",
            "amount": "1000.00", "actual_close_date": "2026-04-02", "fields": ["actual_close_date"]})
    assert Quota.objects.get(pk=q1.pk).attainment_amount == 0
    assert Quota.objects.get(pk=q2.pk).attainment_amount == Decimal("1000.00")


def test_deleting_a_won_deal_takes_it_out_at_once(api, manager, admin_user):
    rep, *_ = team(manager)
    quota(admin_user, user=rep, amount=10000)
    opp = deal_won(rep, 4000, Q1)
    with committed():
        response = api.as_user(manager).delete(f"/api/v1/opportunities/{opp.pk}/")
    assert response.status_code == 204
    assert attained(api.as_user(manager), rep) == "0.00"


def test_changes_to_open_deals_leave_stored_attainment_alone(manager, admin_user):
    # given a rep's quota whose stored figure drifted (a re-measure would show), and an open deal
    rep, other, _ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    open_deal = OpportunityFactory(owner=rep, amount=Decimal("500"))
    Quota.objects.filter(pk=rep_quota.pk).update(attainment_amount=123)
    # when the open deal's amount and owner change
    with committed():
        opportunity_services.opportunity_update(actor=manager, opportunity=open_deal, amount=Decimal("900"),
                                                owner=other)
    # then no quota was re-measured: an open deal counts nowhere
    assert Quota.objects.get(pk=rep_quota.pk).attainment_amount == 123
