"""Whom an activity may be given to, and the events and audit entries every write leaves."""

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from activities import services
from activities.models import Activity
from salesapp import imports
from salesapp.models import ImportJob, OutboxEvent
from tests.activities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/activities/"


def _audit(activity_id) -> list[int]:
    ct = ContentType.objects.get_for_model(Activity)
    return list(LogEntry.objects.filter(content_type=ct, object_pk=str(activity_id)).order_by("pk")
                .values_list("action", flat=True))


def test_manager_gives_tasks_within_their_team_only(sql_store, api, manager, rep, other_rep):
    client = api.as_user(manager)
    ok = client.post(URL, {"type": "task", "subject": "For the rep", "user_id": rep.pk}, format="json")
    assert ok.status_code == 201 and ok.json()["user_id"] == rep.pk
    refused = client.post(URL, {"type": "task", "user_id": other_rep.pk}, format="json")
    assert refused.status_code == 400 and list(refused.json()["error"]["fields"]) == ["user_id"]


def test_nobody_gives_an_activity_to_a_read_only_user(sql_store, api, admin_user, viewer):
    response = api.as_user(admin_user).post(URL, {"type": "task", "user_id": viewer.pk}, format="json")
    assert response.status_code == 400 and "user_id" in response.json()["error"]["fields"]


def test_a_rep_may_not_hand_their_task_to_another_team_but_may_save_it_as_it_is(sql_store, api, rep, other_rep):
    client = api.as_user(rep)
    task = client.post(URL, {"type": "task", "subject": "Mine"}, format="json").json()
    refused = client.patch(f"{URL}{task['id']}/", {"user_id": other_rep.pk}, format="json")
    assert refused.status_code == 400 and "user_id" in refused.json()["error"]["fields"]
    kept = client.patch(f"{URL}{task['id']}/", {"user_id": rep.pk, "subject": "Still mine"}, format="json")
    assert kept.status_code == 200 and kept.json()["user_id"] == rep.pk


def test_a_managers_task_stays_with_the_rep_when_the_rep_edits_it(sql_store, api, manager, rep):
    # Given a task a manager gave the rep, the rep may change it without being judged on its owner
    task = services.activity_log(actor=manager, type="task", user_id=rep.pk, subject="From the boss")
    response = api.as_user(rep).patch(f"{URL}{task['id']}/", {"subject": "On it", "user_id": rep.pk}, format="json")
    assert response.status_code == 200


def test_task_form_offers_whom_the_actor_may_assign(sql_store, client, manager, rep, other_rep):
    deal = OpportunityFactory(owner=rep)
    inactive = UserFactory(role="sales_rep", manager=manager, email="gone@test.example")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])

    def assignees(user) -> set[int]:
        client.force_login(user)
        html = client.get(reverse("activities:timeline-panel"), {"kind": "opportunity", "id": deal.pk}).content.decode()
        select = re.search(r'<select name="user_id".*?</select>', html, re.S).group(0)
        return {int(v) for v in re.findall(r'<option value="(\d+)"', select)}

    # A manager may give a task to their active reps (and keeps "Me"); a rep only keeps "Me"
    assert assignees(manager) == {rep.pk}
    assert assignees(rep) == set()


def test_quick_task_for_someone_outside_the_team_shows_the_error_on_the_assignee(sql_store, client, rep, other_rep):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    url = reverse("activities:log") + f"?kind=opportunity&id={deal.pk}"
    response = client.post(url, {"tab": "task", "type": "task", "subject": "x", "user_id": other_rep.pk})
    assert 'data-testid="error-user_id"' in response.content.decode()
    assert Activity.objects.count() == 0


def test_every_write_leaves_its_event_and_audit_entry(backend, rep, django_capture_on_commit_callbacks):
    # When a rep logs a task, renames it, completes it and deletes it
    task = services.activity_log(actor=rep, type="task", subject="Send deck")
    services.activity_update(actor=rep, activity_id=task["id"], subject="Send the deck")
    services.activity_update(actor=rep, activity_id=task["id"], subject="Send the deck")  # nothing changes
    services.activity_complete(actor=rep, activity_id=task["id"])
    services.activity_delete(actor=rep, activity_id=task["id"])
    # Then each real change published its event once: the no-op edit announced nothing
    events = OutboxEvent.objects.filter(payload__activity_id=task["id"]).order_by("created_at")
    assert [(e.name, e.payload.get("fields")) for e in events] == [
        ("activity.logged", None), ("activity.updated", ["subject"]),
        ("activity.updated", ["completed_at", "occurred_at"]), ("activity.completed", None),
        ("activity.deleted", None)]
    # and each real change left one audit entry, on either store
    assert _audit(task["id"]) == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.UPDATE,
                                  LogEntry.Action.DELETE]


def test_an_update_that_completes_publishes_completed(backend, rep):
    task = services.activity_log(actor=rep, type="task", subject="Call back")
    services.activity_update(actor=rep, activity_id=task["id"], completed_at="2026-03-02T09:00:00Z")
    assert OutboxEvent.objects.filter(name="activity.completed", payload__activity_id=task["id"]).count() == 1


def test_imported_rows_are_announced_in_one_bulk_event_and_their_owner_is_judged(backend, manager, rep, other_rep):
    content = (f"type,subject,owner_email\ncall,First,{rep.email}\ncall,Second,{rep.email}\n").encode()
    job = imports.import_job_run(imports.import_job_create(actor=manager, kind="activities", content=content,
                                                           filename="a.csv").pk)
    assert job.status == ImportJob.Status.SUCCEEDED, (job.message, job.errors)
    # one activity.imported for the batch (counters, caches and search apply it in bulk), no event per row
    (event,) = OutboxEvent.objects.filter(name="activity.imported")
    assert len(event.payload["activity_ids"]) == 2
    assert not OutboxEvent.objects.filter(name="activity.logged").exists()
    content = f"type,subject,owner_email\ncall,Third,{other_rep.email}\n".encode()
    job = imports.import_job_run(imports.import_job_create(actor=manager, kind="activities", content=content,
                                                           filename="b.csv").pk)
    assert job.status == ImportJob.Status.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "owner_email")]
