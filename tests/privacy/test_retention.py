"""Retention policies: a dry run reports per policy how many records it would change; the real run changes
exactly those."""

import datetime as dt

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.store import get_store
from leads.models import Lead
from salesapp.models import DataAccess, RetentionPolicy, RetentionRun
from salesapp.retention import retention_run
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def policies():
    RetentionPolicy.objects.update(enabled=True)
    RetentionPolicy.objects.filter(data_type="unconverted_leads").update(keep_days=730)
    RetentionPolicy.objects.filter(data_type="activities").update(keep_days=1825)
    RetentionPolicy.objects.filter(data_type="data_access").update(keep_days=365)


@pytest.fixture
def history(policies, admin, rep):
    leads = {
        "idle": LeadFactory(created_at=ago(800), last_name="Idle"),
        "idle_activity": LeadFactory(created_at=ago(2000), last_activity_at=ago(900), last_name="Quiet"),
        "worked": LeadFactory(created_at=ago(800), last_activity_at=ago(10), last_name="Worked", assigned_to=rep),
        "new": LeadFactory(created_at=ago(30), last_name="Fresh"),
        "converted": LeadFactory(created_at=ago(800), status="converted", last_name="Customer"),
    }
    old = activity_services.activity_log(actor=admin, type="call", subject="Old call", user_id=rep.pk,
                                         lead_id=leads["worked"].pk, completed_at=ago(1900), created_at=ago(1900))
    recent = activity_services.activity_log(actor=rep, type="call", subject="Recent call", lead_id=leads["worked"].pk)
    for days in (400, 500, 10):
        DataAccess.objects.create(user=rep, kind="detail", model="leads.lead", at=ago(days))
    return leads, old, recent


def _state():
    return {
        "erased_leads": sorted(Lead.objects.filter(erased_at__isnull=False).values_list("last_name", flat=True)),
        "activities": sorted(d["subject"] for d in get_store().find(("all",), limit=100)),
        "data_access": DataAccess.objects.count(),
    }


def test_the_dry_run_counts_and_the_real_run_changes_exactly_those(backend, history):
    before = _state()

    dry = retention_run(dry_run=True, now=NOW)

    assert {k: v["due"] for k, v in dry.report.items()} == {"unconverted_leads": 2, "activities": 1, "data_access": 2}
    assert {v["changed"] for v in dry.report.values()} == {0}
    assert _state() == before  # nothing changed

    real = retention_run(dry_run=False, now=NOW)

    assert {k: v["changed"] for k, v in real.report.items()} == {k: v["due"] for k, v in dry.report.items()}
    assert _state() == {
        "erased_leads": ["", ""],  # the idle leads' names are gone; the worked, new and converted ones stay
        "activities": ["Recent call"],
        "data_access": 1,
    }
    assert set(Lead.objects.filter(erased_at__isnull=True).values_list("last_name", flat=True)) == {
        "Worked", "Fresh", "Customer"}
    assert RetentionRun.objects.filter(dry_run=True).count() == 1 and RetentionRun.objects.filter(dry_run=False).count() == 1
    assert retention_run(dry_run=True, now=NOW).report["unconverted_leads"]["due"] == 0  # done once, not again


def test_a_disabled_policy_changes_nothing(history):
    RetentionPolicy.objects.filter(data_type="activities").update(enabled=False)

    report = retention_run(dry_run=False, now=NOW).report

    assert "activities" not in report
    assert len(get_store().find(("all",), limit=100)) == 2
