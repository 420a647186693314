"""Attainment from events, the full recompute, quota.attained, the cache."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command

from quotas import selectors
from quotas.attainment import cache_key, quotas_recompute
from quotas.models import Quota
from salesapp import events
from salesapp.models import OutboxEvent
from territories import services as territory_services
from tests.quotas.factories import committed, deal_lost, deal_reopen, deal_won, quota, team

pytestmark = pytest.mark.django_db
Q1 = dt.date(2026, 2, 10)


def fresh(q: Quota) -> Quota:
    return Quota.objects.get(pk=q.pk)


def test_a_won_deal_raises_the_reps_and_the_managers_quota_and_reopening_takes_it_back(manager, admin_user):
    # given a manager with a team quota and a rep with a quota
    rep, *_ = team(manager)
    team_quota = quota(admin_user, user=manager, amount=100000)
    rep_quota = quota(admin_user, user=rep, amount=30000)
    # when the rep wins a deal in the quarter
    opp = deal_won(rep, 12000, Q1)
    # then both quotas count it
    assert fresh(rep_quota).attainment_amount == Decimal("12000.00")
    assert fresh(rep_quota).attainment_percentage == Decimal("40.00")
    assert fresh(team_quota).attainment_amount == Decimal("12000.00")
    # and reopening it takes it back
    deal_reopen(opp, manager)
    assert fresh(rep_quota).attainment_amount == 0
    assert fresh(team_quota).attainment_amount == 0


def test_lost_deals_and_deals_outside_the_period_do_not_count(manager, admin_user):
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    deal_lost(rep, 5000, Q1)
    deal_won(rep, 7000, dt.date(2026, 4, 1))
    assert fresh(rep_quota).attainment_amount == 0


def test_deal_and_territory_quotas(manager, admin_user):
    rep, *_ = team(manager)
    west = territory_services.territory_create(actor=admin_user, name="West", countries=["DE"])
    bay = territory_services.territory_create(actor=admin_user, name="Bay Area", parent=west, countries=["DE"])
    deals = quota(admin_user, user=rep, amount=4, quota_type="deals")
    territory = quota(admin_user, territory=west, amount=50000)
    deal_won(rep, 1000, Q1, territory=bay, actor=admin_user)
    deal_won(rep, 2000, Q1)
    assert fresh(deals).attainment_amount == 2
    assert fresh(deals).attainment_percentage == Decimal("50.00")
    # the deal in the child territory counts for the parent territory
    assert fresh(territory).attainment_amount == Decimal("1000.00")


def test_a_quota_set_after_the_deals_starts_with_their_attainment(manager, admin_user):
    rep, *_ = team(manager)
    deal_won(rep, 2500, Q1)
    assert quota(admin_user, user=rep, amount=5000).attainment_percentage == Decimal("50.00")


def test_a_redelivered_event_changes_nothing(manager, admin_user):
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    deal_won(rep, 3000, Q1)
    won = OutboxEvent.objects.filter(name="opportunity.won").latest("created_at")
    before = fresh(rep_quota).attainment_amount
    # when the broker delivers the same event again
    with committed():
        applied = events.deliver(events.event_dict(won))
    # then our consumer does not apply it twice and the figure stands
    assert "quotas.deal_attainment" not in applied
    assert fresh(rep_quota).attainment_amount == before == Decimal("3000.00")


def test_a_new_event_id_with_the_same_payload_still_gives_the_true_figure(manager, admin_user):
    # consumers re-measure from the deals instead of adding amounts, so even a duplicate
    # published under a new id cannot double-count
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    deal_won(rep, 3000, Q1)
    won = events.event_dict(OutboxEvent.objects.filter(name="opportunity.won").latest("created_at"))
    with committed():
        events.deliver({**won, "id": str(uuid.uuid4())})
    assert fresh(rep_quota).attainment_amount == Decimal("3000.00")


def test_recompute_leaves_every_figure_unchanged_after_mixed_events(manager, admin_user):
    # given quotas at every level and a run of mixed events
    reps = team(manager)
    west = territory_services.territory_create(actor=admin_user, name="West", countries=["DE"])
    quotas = [quota(admin_user, user=manager, amount=90000), quota(admin_user, user=manager, amount=10,
                                                                  quota_type="deals"),
              quota(admin_user, territory=west, amount=40000), quota(admin_user, user=manager, amount=200000,
                                                                     period="FY2026"),
              quota(admin_user, user=reps[0], amount=5000, period="2026-02")]
    quotas += [quota(admin_user, user=r, amount=30000) for r in reps]
    won = [deal_won(reps[i % 3], 1000 * (i + 1), Q1 + dt.timedelta(days=i), territory=west if i % 2 else None,
                    actor=admin_user)
           for i in range(6)]
    deal_lost(reps[1], 999, Q1)
    deal_reopen(won[2], manager)
    deal_reopen(won[4], manager)
    deal_won(reps[2], 777, dt.date(2026, 5, 5))
    snapshot = {q.pk: (q.attainment_amount, q.attainment_percentage)
                for q in Quota.objects.filter(pk__in=[q.pk for q in quotas])}
    assert snapshot[quotas[0].pk][0] == Decimal(1000 + 2000 + 4000 + 6000)
    # when the full recompute runs
    with committed():
        call_command("recompute_quotas")
    # then nothing changed
    after = {q.pk: (q.attainment_amount, q.attainment_percentage)
             for q in Quota.objects.filter(pk__in=[q.pk for q in quotas])}
    assert after == snapshot
    assert quotas_recompute()["changed"] == 0


def test_recompute_repairs_a_figure_that_drifted(manager, admin_user):
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    deal_won(rep, 3000, Q1)
    Quota.objects.filter(pk=rep_quota.pk).update(attainment_amount=1, attainment_percentage=0)
    assert quotas_recompute()["changed"] == 1
    assert fresh(rep_quota).attainment_amount == Decimal("3000.00")


def test_quota_attained_is_published_once_when_two_deals_push_a_quota_past_100(manager, admin_user):
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    deal_won(rep, 6000, Q1)
    assert not OutboxEvent.objects.filter(name="quota.attained").exists()
    # two further deals: the first crosses 100%, the second goes further
    deal_won(rep, 5000, Q1)
    opp = deal_won(rep, 4000, Q1)
    # falling back under and crossing again, and a full recompute, publish nothing more
    deal_reopen(opp, manager)
    deal_won(rep, 4000, Q1)
    with committed():
        quotas_recompute()
    attained = OutboxEvent.objects.filter(name="quota.attained", payload__quota_id=rep_quota.pk)
    assert attained.count() == 1
    assert attained.get().payload["attainment_percentage"] == "110.00"
    assert fresh(rep_quota).attained_at is not None


def test_attainment_reads_are_cached_and_invalidated_by_events(manager, admin_user):
    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    first = selectors.quota_attainment(user=rep, user_id=rep.pk, period="Q1_2026")
    assert first["quotas"][0]["attainment_amount"] == "0.00"
    assert cache.get(cache_key(rep.pk, "Q1_2026")) is not None
    if hasattr(cache, "ttl"):  # django-redis in services mode
        assert 0 < cache.ttl(cache_key(rep.pk, "Q1_2026")) <= 120
    # a change behind the cache's back is not seen until the key goes
    Quota.objects.filter(pk=rep_quota.pk).update(quota_amount=1)
    assert selectors.quota_attainment(user=rep, user_id=rep.pk, period="Q1_2026")["quotas"][0]["quota_amount"] == \
        "10000.00"
    # a won deal invalidates the rep's (and the manager's) entry
    deal_won(rep, 500, Q1)
    again = selectors.quota_attainment(user=rep, user_id=rep.pk, period="Q1_2026")
    assert again["quotas"][0]["attainment_amount"] == "500.00"


def test_activity_quotas_count_completed_activities(manager, admin_user):
    from activities import services as activity_services

    rep, *_ = team(manager)
    now = dt.datetime.now(dt.UTC)
    period = f"{now.year}-{now.month:02d}"
    rep_quota = quota(admin_user, user=rep, amount=4, quota_type="activities", period=period)
    team_quota = quota(admin_user, user=manager, amount=10, quota_type="activities", period=period)
    with committed():
        task = activity_services.activity_log(actor=rep, type="task", subject="Send proposal", due_at=now)
    assert fresh(rep_quota).attainment_amount == 0
    with committed():
        activity_services.activity_complete(actor=rep, activity_id=task["id"])
    with committed():
        activity_services.activity_log(actor=rep, type="call", subject="Intro call")
    assert fresh(rep_quota).attainment_amount == 2
    assert fresh(team_quota).attainment_amount == 2
    assert quotas_recompute()["changed"] == 0


def test_deleting_a_won_deal_takes_it_out(manager, admin_user):
    from opportunities.services import deals as opportunity_services

    rep, *_ = team(manager)
    rep_quota = quota(admin_user, user=rep, amount=10000)
    opp = deal_won(rep, 4000, Q1)
    with committed():
        opportunity_services.opportunity_delete(actor=manager, opportunity=opp)
    assert fresh(rep_quota).attainment_amount == 0
