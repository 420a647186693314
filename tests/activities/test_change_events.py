"""Changing or deleting an activity tells the others: events named for what happened, and counts that follow."""

import pytest

from activities import services
from leads import services as lead_services
from leads.models import Lead
from quotas import services as quota_services
from quotas.models import Quota
from salesapp.models import OutboxEvent
from salesapp.periods import current_quarter

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"


def _events(name):
    return [e.payload for e in OutboxEvent.objects.filter(name=name).order_by("created_at")]


def test_an_edit_publishes_activity_updated_naming_the_changed_fields(backend, api, rep,
                                                                      django_capture_on_commit_callbacks):
    task = services.activity_log(actor=rep, type="task", subject="Call back")
    client = api.as_user(rep)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.patch(f"{URL}{task['id']}/", {"subject": "Call back Monday"}, format="json").status_code == 200
        # an edit that changes nothing publishes nothing
        assert client.patch(f"{URL}{task['id']}/", {"subject": "Call back Monday"}, format="json").status_code == 200
    updated = _events("activity.updated")
    assert [(e["activity_id"], e["fields"]) for e in updated] == [(task["id"], ["subject"])]


def test_deleting_an_activity_on_a_lead_takes_it_out_of_the_leads_count(backend, api, rep,
                                                                        django_capture_on_commit_callbacks):
    # Given a lead with two calls logged on it
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_services.lead_create(actor=rep, email="buyer@example.com", company="Acme")
        first = services.activity_log(actor=rep, type="call", lead_id=lead.pk, subject="Intro")
        services.activity_log(actor=rep, type="call", lead_id=lead.pk, subject="Follow-up")
    assert Lead.objects.get(pk=lead.pk).activity_count == 2
    # When one is deleted through the API
    with django_capture_on_commit_callbacks(execute=True):
        assert api.as_user(rep).delete(f"{URL}{first['id']}/").status_code == 204
    # Then the event says so and the lead counts one call
    assert [e["activity_id"] for e in _events("activity.deleted")] == [first["id"]]
    assert Lead.objects.get(pk=lead.pk).activity_count == 1


def test_deleting_a_completed_call_takes_it_out_of_activity_attainment(backend, api, admin_user, rep,
                                                                       django_capture_on_commit_callbacks):
    # Given an activity quota of the rep this quarter and one call done today
    quota, _ = quota_services.quota_set(actor=admin_user, user=rep, period=current_quarter().key,
                                        quota_type="activities", quota_amount=10, status="published")
    with django_capture_on_commit_callbacks(execute=True):
        call = services.activity_log(actor=rep, type="call", subject="Done")
    assert Quota.objects.get(pk=quota.pk).attainment_amount == 1
    # When the call is deleted, the quota counts nothing
    with django_capture_on_commit_callbacks(execute=True):
        services.activity_delete(actor=rep, activity_id=call["id"])
    assert Quota.objects.get(pk=quota.pk).attainment_amount == 0
