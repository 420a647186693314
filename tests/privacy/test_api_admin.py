"""Requests through the API and the admin console: filed by an admin, run in the background, the archive
downloaded; other roles are refused. Retention policies run dry or for real from the admin console."""

import io
import zipfile

import pytest

from salesapp.models import PrivacyRequest, RetentionPolicy, RetentionRun
from tests.privacy.world import EMAIL, person_with_history

pytestmark = pytest.mark.django_db


def test_an_admin_files_an_access_request_and_downloads_the_archive(client, admin, manager, rep,
                                                                    django_capture_on_commit_callbacks):
    person_with_history(rep=rep, manager=manager)
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post("/api/v1/privacy-requests/", {"kind": "access", "email": EMAIL},
                            content_type="application/json")

    assert filed.status_code == 202, filed.content
    shown = client.get(f"/api/v1/privacy-requests/{filed.json()['id']}/").json()
    assert shown["status"] == "succeeded" and shown["has_archive"] and shown["receipt"]["found"]["leads.lead"] == 1
    assert "subject" not in shown["receipt"]
    archive = client.get(f"/api/v1/privacy-requests/{shown['id']}/archive/")
    assert archive["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert EMAIL in z.read("leads.json").decode()


def test_a_request_names_the_missing_person_or_record(client, admin):
    client.force_login(admin)

    neither = client.post("/api/v1/privacy-requests/", {"kind": "erasure"}, content_type="application/json")
    unknown = client.post("/api/v1/privacy-requests/", {"kind": "access", "record_kind": "lead", "record_id": 999},
                          content_type="application/json")

    assert neither.status_code == 400 and "email" in str(neither.json())
    assert unknown.status_code == 400 and "No lead 999" in str(unknown.json())
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_other_roles_may_not_file_requests(client, request, role):
    client.force_login(request.getfixturevalue(role))

    assert client.post("/api/v1/privacy-requests/", {"kind": "access", "email": EMAIL},
                       content_type="application/json").status_code == 403
    assert client.get("/api/v1/privacy-requests/").status_code == 403


def test_the_admin_console_files_an_erasure(client, admin, manager, rep, django_capture_on_commit_callbacks):
    person = person_with_history(rep=rep, manager=manager)
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=True):
        added = client.post("/admin/salesapp/privacyrequest/add/", {
            "kind": "erasure", "record_kind": "lead", "record_id": person.lead.pk, "email": "", "note": ""})

    assert added.status_code == 302, added.content.decode()[:2000]
    filed = PrivacyRequest.objects.get()
    assert filed.status == "succeeded" and filed.receipt["erased"]["leads"] == 1
    page = client.get(f"/admin/salesapp/privacyrequest/{filed.pk}/change/").content.decode()
    assert "&quot;leads&quot;: 1" in page  # the receipt, shown


def test_the_admin_console_runs_retention_dry(client, admin):
    client.force_login(admin)

    answer = client.post("/admin/salesapp/retentionpolicy/", {
        "action": "dry_run", "_selected_action": list(RetentionPolicy.objects.values_list("pk", flat=True))},
        follow=True)

    assert "Dry run would change: Data-access entries (who read what): 0 deleted" in answer.content.decode()
    assert RetentionRun.objects.get().dry_run
