"""quota.set / quota.updated events, the scheduled recompute, the import kind."""

import pytest
from django.conf import settings

from quotas import services
from quotas.tasks import quotas_recompute_task
from salesapp.models import OutboxEvent
from tests.quotas.factories import committed, quota, team

pytestmark = pytest.mark.django_db


def test_setting_changing_and_deleting_a_quota_publish_events(manager, admin_user):
    rep, *_ = team(manager)
    q = quota(admin_user, user=rep, amount=100, status="draft")
    created = OutboxEvent.objects.get(name="quota.set")
    assert created.payload["quota_id"] == q.pk and created.payload["period"] == "Q1_2026"
    assert created.actor == admin_user
    with committed():
        services.quota_update(actor=manager, quota=q, quota_amount=150, status="published")
    updated = OutboxEvent.objects.get(name="quota.updated")
    assert updated.payload["changes"] == {"quota_amount": ["100.00", "150.00"], "status": ["draft", "published"]}
    with committed():
        services.quota_delete(actor=manager, quota=q)
    assert OutboxEvent.objects.filter(name="quota.updated", payload__deleted=True).count() == 1


def test_the_recompute_runs_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["quotas-recompute"]
    assert entry["task"] == "quotas.tasks.quotas_recompute_task"
    assert quotas_recompute_task.delay().get() == {"quotas": 0, "changed": 0, "attained": 0}


def test_quotas_are_an_import_kind_for_quota_setters():
    from salesapp.imports import import_kind

    kind = import_kind("quotas")
    assert kind.permission == "quota:set"
    assert [c.name for c in kind.columns if c.required] == ["period", "quota_amount"]
