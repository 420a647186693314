"""The quota API: CRUD, allocation, roll-up, attainment, and who may do what."""

import datetime as dt
from decimal import Decimal

import pytest

from quotas.models import Quota
from tests.quotas.factories import committed, deal_reopen, deal_won, quota, team
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/quotas/"


def test_manager_quota_allocated_evenly_then_a_won_deal_moves_rep_and_rollup(api, manager):
    # given a manager with three reps and a Q-quota set through the API
    reps = team(manager)
    client = api.as_user(manager)
    with committed():
        created = client.post(URL, {"user_id": manager.pk, "period": "Q1_2026", "quota_amount": "90000.00",
                                    "status": "published"})
    assert created.status_code == 201, created.json()
    assert created.json()["start_date"] == "2026-01-01" and created.json()["end_date"] == "2026-03-31"
    # when it is allocated evenly
    with committed():
        allocated = client.post(f"{URL}{created.json()['id']}/allocate/", {"method": "even"})
    assert allocated.status_code == 200, allocated.json()
    assert [r["amount"] for r in allocated.json()["rows"]] == ["30000.00"] * 3
    assert allocated.json()["gap"] == "0.00" and allocated.json()["state"] == "balanced"
    # then each rep has a 30,000 quota with the manager's as parent
    listed = client.get(URL, {"period": "Q1_2026", "user": reps[0].pk}).json()["results"]
    assert listed[0]["quota_amount"] == "30000.00" and listed[0]["parent_id"] == created.json()["id"]
    # when one rep wins a deal
    opp = deal_won(reps[0], 12000, dt.date(2026, 2, 3))
    # then the rep's attainment and the manager's roll-up rise by its amount on the next request
    rep_view = api.as_user(reps[0]).get(URL, {"period": "Q1_2026"}).json()["results"]
    assert rep_view[0]["attainment_amount"] == "12000.00" and rep_view[0]["attainment_percentage"] == "40.00"
    rollup = api.as_user(manager).get(f"{URL}rollup/", {"period": "Q1_2026", "user": manager.pk}).json()
    assert rollup["node"]["attainment_amount"] == "12000.00"
    assert rollup["totals"] == {"quota_amount": "90000.00", "attainment_amount": "12000.00",
                                "attainment_percentage": "13.33"}
    assert {c["name"]: c["attainment_amount"] for c in rollup["children"]}[str(reps[0])] == "12000.00"
    # and reopening takes it back
    deal_reopen(opp, manager)
    rollup = api.as_user(manager).get(f"{URL}rollup/", {"period": "Q1_2026", "user": manager.pk}).json()
    assert rollup["totals"]["attainment_amount"] == "0.00"
    assert api.as_user(reps[0]).get(URL, {"period": "Q1_2026"}).json()["results"][0]["attainment_amount"] == "0.00"


def test_allocation_by_history_and_by_hand_shows_the_gap(api, manager, admin_user):
    reps = team(manager)
    deal_won(reps[0], 3000, dt.date(2025, 11, 1))
    deal_won(reps[1], 1000, dt.date(2025, 12, 1))
    parent = quota(admin_user, user=manager, amount=100000)
    client = api.as_user(manager)
    with committed():
        history = client.post(f"{URL}{parent.pk}/allocate/", {"method": "history"}).json()
    assert [r["amount"] for r in history["rows"]] == ["75000.00", "25000.00", "0.00"]
    with committed():
        manual = client.post(f"{URL}{parent.pk}/allocate/", {
            "method": "manual", "amounts": {str(reps[0].pk): "60000", str(reps[2].pk): "50000"}}).json()
    # over-allocation is allowed and visible
    assert manual["allocated"] == "135000.00" and manual["gap"] == "-35000.00" and manual["state"] == "over"
    bad = client.post(f"{URL}{parent.pk}/allocate/", {"method": "manual", "amounts": {"999999": "1"}})
    assert bad.status_code == 400 and "amounts" in bad.json()["error"]["fields"]


def test_dry_run_allocation_writes_nothing(api, manager, admin_user):
    team(manager)
    parent = quota(admin_user, user=manager, amount=100)
    plan = api.as_user(manager).post(f"{URL}{parent.pk}/allocate/", {"method": "even", "dry_run": True}).json()
    assert [r["amount"] for r in plan["rows"]] == ["33.34", "33.33", "33.33"]
    assert Quota.objects.count() == 1


def test_reps_see_their_own_published_quotas_and_cannot_set_any(api, manager, rep, other_rep, admin_user):
    mine = quota(admin_user, user=rep, amount=100)
    quota(admin_user, user=rep, amount=5, quota_type="deals", status="draft")
    theirs = quota(admin_user, user=other_rep, amount=100)
    client = api.as_user(rep)
    ids = [q["id"] for q in client.get(URL).json()["results"]]
    assert ids == [mine.pk]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(URL, {"user_id": rep.pk, "period": "Q2_2026", "quota_amount": "1"}).status_code == 403
    assert client.patch(f"{URL}{mine.pk}/", {"quota_amount": "1"}).status_code == 403
    assert client.delete(f"{URL}{mine.pk}/").status_code == 403


def test_managers_see_and_set_their_subtree_only(api, manager, rep, other_rep, admin_user):
    theirs = quota(admin_user, user=other_rep, amount=100)
    client = api.as_user(manager)
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.patch(f"{URL}{theirs.pk}/", {"quota_amount": "1"}).status_code == 404
    refused = client.post(URL, {"user_id": other_rep.pk, "period": "Q1_2026", "quota_amount": "10"})
    assert refused.status_code == 400 and "user_id" in refused.json()["error"]["fields"]
    with committed():
        ok = client.post(URL, {"user_id": rep.pk, "period": "Q1_2026", "quota_amount": "10"})
    assert ok.status_code == 201
    with committed():
        changed = client.patch(f"{URL}{ok.json()['id']}/", {"quota_amount": "20", "status": "published"})
    assert changed.json()["quota_amount"] == "20.00" and changed.json()["status"] == "published"
    assert client.get(f"{URL}rollup/", {"period": "Q1_2026", "user": other_rep.pk}).status_code == 404


def test_viewer_reads_nothing_but_may_not_write(api, viewer, rep, admin_user):
    quota(admin_user, user=rep, amount=100)
    client = api.as_user(viewer)
    assert client.get(URL).json()["results"] == []
    assert client.post(URL, {"user_id": rep.pk, "period": "Q1_2026", "quota_amount": "1"}).status_code == 403


def test_errors_name_the_field(api, manager, rep):
    client = api.as_user(manager)
    bad_period = client.post(URL, {"user_id": rep.pk, "period": "Q9_2026", "quota_amount": "1"})
    assert bad_period.status_code == 400 and "period" in bad_period.json()["error"]["fields"]
    negative = client.post(URL, {"user_id": rep.pk, "period": "Q1_2026", "quota_amount": "-1"})
    assert "quota_amount" in negative.json()["error"]["fields"]
    both = client.post(URL, {"period": "Q1_2026", "quota_amount": "1"})
    assert "user_id" in both.json()["error"]["fields"]
    with committed():
        client.post(URL, {"user_id": rep.pk, "period": "Q1_2026", "quota_amount": "1"})
    twice = client.post(URL, {"user_id": rep.pk, "period": "Q1_2026", "quota_amount": "1"})
    assert "period" in twice.json()["error"]["fields"]


def test_list_filters(api, manager, admin_user):
    reps = team(manager)
    quota(admin_user, user=reps[0], amount=1, period="Q1_2026")
    quota(admin_user, user=reps[0], amount=1, period="2026-02", quota_type="deals")
    quota(admin_user, user=reps[1], amount=1, period="FY2026")
    client = api.as_user(manager)
    assert len(client.get(URL, {"user": reps[0].pk}).json()["results"]) == 2
    assert len(client.get(URL, {"quota_type": "deals"}).json()["results"]) == 1
    assert len(client.get(URL, {"period": "FY2026"}).json()["results"]) == 1
    assert client.get(URL, {"period_kind": "month"}).json()["results"][0]["period"] == "2026-02"


def test_territory_rollup(api, admin_user, manager):
    from territories import services as territory_services

    west = territory_services.territory_create(actor=admin_user, name="West", countries=["DE"])
    north = territory_services.territory_create(actor=admin_user, name="North", parent=west, countries=["DE"])
    territory_services.territory_create(actor=admin_user, name="South", parent=west, countries=["DE"])
    parent = quota(admin_user, territory=west, amount=1000)
    with committed():
        plan = api.as_user(admin_user).post(f"{URL}{parent.pk}/allocate/", {"method": "even"}).json()
    assert [r["amount"] for r in plan["rows"]] == ["500.00", "500.00"]
    rep = UserFactory(role="sales_rep", manager=manager)
    deal_won(rep, 200, dt.date(2026, 1, 5), territory=north, actor=admin_user)
    rollup = api.as_user(admin_user).get(f"{URL}rollup/", {"period": "Q1_2026", "territory": west.pk}).json()
    assert rollup["node"]["attainment_amount"] == "200.00"
    assert {c["name"]: c["attainment_percentage"] for c in rollup["children"]} == {"North": "40.00", "South": "0.00"}


def test_attainment_endpoint_reads_one_users_quotas(api, manager, rep, admin_user):
    quota(admin_user, user=rep, amount=1000)
    deal_won(rep, 250, dt.date(2026, 3, 31))
    body = api.as_user(rep).get(f"{URL}attainment/", {"period": "Q1_2026"}).json()
    assert body["quotas"][0]["attainment_percentage"] == "25.00"
    assert api.as_user(manager).get(f"{URL}attainment/", {"period": "Q1_2026", "user": rep.pk}).status_code == 200
    assert api.as_user(rep).get(f"{URL}attainment/", {"period": "Q1_2026", "user": manager.pk}).status_code == 404
    assert Decimal(body["quotas"][0]["attainment_amount"]) == Decimal(250)
