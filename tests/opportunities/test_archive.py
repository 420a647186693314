"""Archival: closed deals older than two years leave every list for the archive; restoring one brings it
back with its history."""

import datetime as dt

import pytest
from django.utils import timezone

from opportunities.models import ArchiveJob, Opportunity
from opportunities.services import archive, deals
from tests.opportunities.factories import OpportunityFactory


def _closed(owner, name, *, days_ago: int, won=True):
    """A deal moved through a stage and closed, its close date set `days_ago` days back."""
    opp = OpportunityFactory(owner=owner, name=name, stage="discovery")
    deals.opportunity_update(actor=owner, opportunity=opp, stage="proposal")
    deals.opportunity_close(actor=owner, opportunity=opp, outcome="won" if won else "lost",
                            reason=None if won else "Timing", note="", amount=None)
    # Given: the close happened long ago (the service dates it today).
    Opportunity.objects.filter(pk=opp.pk).update(actual_close_date=timezone.localdate() - dt.timedelta(days=days_ago))
    return opp


def _names(client, path="/api/v1/opportunities/"):
    response = client.get(path)
    assert response.status_code == 200, response.json()
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.django_db
def test_archiving_moves_old_closed_deals_to_the_archive_and_restore_brings_one_back(
        api, manager, rep, django_capture_on_commit_callbacks):
    old = _closed(rep, "Closed three years ago", days_ago=3 * 365)
    _closed(rep, "Lost three years ago", days_ago=3 * 365, won=False)
    _closed(rep, "Closed last year", days_ago=365)
    OpportunityFactory(owner=rep, name="Still open")
    history_before = list(old.stage_history.order_by("id").values_list("from_stage", "to_stage"))

    with django_capture_on_commit_callbacks(execute=True):
        started = api.as_user(manager).post("/api/v1/archive-jobs/", {}, format="json")
    assert started.status_code == 201, started.json()
    job = api.get(f"/api/v1/archive-jobs/{started.json()['id']}/").json()
    assert (job["status"], job["total"], job["processed"]) == ("done", 2, 2)
    assert job["closed_before"] == (timezone.localdate() - dt.timedelta(days=730)).isoformat()

    rep_client = api.as_user(rep)
    assert _names(rep_client) == {"Closed last year", "Still open"}
    assert rep_client.get(f"/api/v1/opportunities/{old.pk}/").status_code == 404
    assert _names(rep_client, "/api/v1/archived-opportunities/") == {"Closed three years ago", "Lost three years ago"}
    archived = rep_client.get(f"/api/v1/archived-opportunities/{old.pk}/").json()
    assert archived["archived_at"] and archived["outcome"] == "won"
    assert [(h["from_stage"], h["to_stage"]) for h in reversed(archived["stage_history"])] == history_before
    # Read-only: the archive has no write but the restore, which is the managers'.
    assert rep_client.patch(f"/api/v1/archived-opportunities/{old.pk}/", {"name": "x"}, format="json").status_code == 405
    assert rep_client.post(f"/api/v1/archived-opportunities/{old.pk}/restore/").status_code == 403

    restored = api.as_user(manager).post(f"/api/v1/archived-opportunities/{old.pk}/restore/")
    assert restored.status_code == 200, restored.json()
    rep_client = api.as_user(rep)
    assert "Closed three years ago" in _names(rep_client)
    assert _names(rep_client, "/api/v1/archived-opportunities/") == {"Lost three years ago"}
    history = rep_client.get(f"/api/v1/opportunities/{old.pk}/history/").json()
    assert [(h["from_stage"], h["to_stage"]) for h in reversed(history)] == history_before


@pytest.mark.django_db
def test_analytics_keep_counting_archived_deals(api, manager, rep, django_capture_on_commit_callbacks):
    _closed(rep, "Won long ago", days_ago=3 * 365)
    _closed(rep, "Lost long ago", days_ago=3 * 365, won=False)
    before = api.as_user(manager).get("/api/v1/analytics/win_rate/").json()
    assert [(r["won"], r["lost"]) for r in before["rows"]] == [(1, 1)]

    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(manager).post("/api/v1/archive-jobs/", {}, format="json")

    assert Opportunity.archived.count() == 2
    assert api.as_user(manager).get("/api/v1/analytics/win_rate/").json() == before


@pytest.mark.django_db
def test_reps_may_not_archive(api, rep):
    assert api.as_user(rep).post("/api/v1/archive-jobs/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_admin_console_starts_archival_and_restores(client, admin_user, rep, django_capture_on_commit_callbacks):
    old = _closed(rep, "Closed three years ago", days_ago=3 * 365)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        added = client.post("/admin/opportunities/archivejob/add/",
                            {"closed_before": (timezone.localdate() - dt.timedelta(days=730)).isoformat()})
    assert added.status_code == 302
    archived_page = client.get("/admin/opportunities/archivedopportunity/")
    assert "Closed three years ago" in archived_page.text
    assert "Closed three years ago" not in client.get("/admin/opportunities/opportunity/").text

    client.post("/admin/opportunities/archivedopportunity/", {"action": "restore", "_selected_action": [old.pk]})
    assert "Closed three years ago" not in client.get("/admin/opportunities/archivedopportunity/").text
    assert "Closed three years ago" in client.get("/admin/opportunities/opportunity/").text


@pytest.mark.django_db
def test_the_nightly_job_archives_by_the_system_once(rep, django_capture_on_commit_callbacks):
    _closed(rep, "Closed three years ago", days_ago=3 * 365)

    with django_capture_on_commit_callbacks(execute=True):
        job = archive.archive_job_schedule()

    job.refresh_from_db()
    assert (job.status, job.processed, job.created_by) == ("done", 1, None)
    assert list(Opportunity.archived.values_list("name", flat=True)) == ["Closed three years ago"]
    ArchiveJob.objects.filter(pk=job.pk).update(status=ArchiveJob.Status.RUNNING)
    assert archive.archive_job_schedule() is None  # one at a time
