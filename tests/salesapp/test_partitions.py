"""Quarterly partitions of the data-access log (PostgreSQL): made ahead, rows in their quarter, old
quarters dropped by the purge."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from salesapp import partitions
from salesapp.models import DataAccess
from salesapp.retention import retention_run
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

TABLE = "salesapp_dataaccess"


@pytest.fixture(autouse=True)
def _postgresql_only():
    if not settings.IS_POSTGRES:
        pytest.skip("embedded pass (SQLite has no partitions): runs in the PostgreSQL pass of .ci/run")


def _partition_of(entry: DataAccess) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [entry.pk])  # nosec B608
        return cursor.fetchone()[0]


def _quarter(day: dt.date) -> str:
    return f"{TABLE}_y{day.year}q{(day.month - 1) // 3 + 1}"


def test_the_current_and_coming_quarters_exist_and_a_read_lands_in_its_quarter(rep):
    today = timezone.now().date()
    names = partitions.partitions_ensure()
    assert _quarter(today) in names and f"{TABLE}_default" in names
    assert len([n for n in names if n != f"{TABLE}_default" and n >= _quarter(today)]) == 1 + settings.PARTITION_QUARTERS_AHEAD

    entry = DataAccess.objects.create(user=rep, kind="detail", model="leads.lead", object_ids=[1])

    assert _partition_of(entry) == _quarter(today)


def test_the_periodic_job_makes_next_years_quarters():
    next_year = timezone.now().date() + dt.timedelta(days=366)

    partitions.partitions_ensure(today=next_year)

    assert _quarter(next_year) in partitions.partitions_of(TABLE)


def test_the_retention_run_drops_a_quarter_past_the_data_access_policy_whole(rep):
    long_ago = dt.date(2001, 2, 1)
    partitions.partitions_ensure(today=long_ago, ahead=0)
    old = DataAccess.objects.create(user=rep, kind="list", model="leads.lead",
                                    at=timezone.make_aware(dt.datetime(2001, 2, 3)))
    recent = DataAccess.objects.create(user=rep, kind="list", model="leads.lead")
    assert _partition_of(old) == f"{TABLE}_y2001q1"
    # The rows were written long before a purge: their deferred foreign-key checks are done, as at commit
    # (the test's transaction never commits, and a table with pending checks cannot be dropped).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    run = retention_run(dry_run=False)
    assert run.report["data_access"]["changed"] == run.report["data_access"]["due"] >= 1

    assert f"{TABLE}_y2001q1" not in partitions.partitions_of(TABLE)
    assert list(DataAccess.objects.filter(pk__in=[old.pk, recent.pk]).values_list("pk", flat=True)) == [recent.pk]


def test_stage_history_is_partitioned_by_quarter_too(rep):
    deal = OpportunityFactory(owner=rep)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM opportunities_stagehistory WHERE opportunity_id = %s",
                       [deal.pk])
        (partition,) = cursor.fetchone()

    assert partition == f"opportunities_stagehistory_y{timezone.now().year}q{(timezone.now().month - 1) // 3 + 1}"
    assert partition in partitions.partitions_ensure()
