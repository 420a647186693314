"""The generic import runner: row errors, abort vs skip, dry run, bad bytes, the API."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email

from salesapp import imports
from salesapp.exports import csv_rows, escape_cell
from salesapp.models import ImportJob, User


def _validate(row, ctx):
    try:
        validate_email(row["email"])
    except ValidationError:
        raise imports.RowError("email", "not a valid email address")
    ctx.claim("email", row["email"].lower(), "email")
    manager = ctx.owner(row["manager_email"], "manager_email")
    return {"email": row["email"].lower(), "first_name": row["first_name"], "manager": manager}


def _write(rows, ctx):
    created = updated = 0
    for row in rows:
        _, was_created = User.objects.update_or_create(email=row["email"], defaults={
            "first_name": row["first_name"], "manager": row["manager"]})
        created += was_created
        updated += not was_created
    return created, updated


@pytest.fixture
def people_kind():
    kind = imports.ImportKind(
        name="test_people", label="People", permission="lead:import",
        columns=[imports.ImportColumn("email", required=True), imports.ImportColumn("first_name"),
                 imports.ImportColumn("manager_email"), imports.ImportColumn("created_at", admin_only=True)],
        validate_row=_validate, write_rows=_write,
    )
    imports.register_import_kind(kind)
    yield kind
    imports._kinds.pop("test_people", None)


CSV = (
    b"E-mail,First name,Manager email\n"
    b"ann@x.example,Ann,admin@test.example\n"
    b"not-an-email,Bob,\n"
    b"cy@x.example,Cy,\n"
    b"dee@x.example,Dee,nobody@x.example\n"
    b"eve@x.example,Eve,\n"
)
MAPPING = {"E-mail": "email", "First name": "first_name", "Manager email": "manager_email"}


def _run(actor, content, **kw):
    job = imports.import_job_create(actor=actor, kind="test_people", content=content, mapping=MAPPING, **kw)
    return imports.import_job_run(job.pk)


@pytest.mark.django_db
def test_default_import_reports_every_bad_row_and_writes_nothing(admin_user, people_kind):
    job = _run(admin_user, CSV)
    assert job.status == "failed"
    assert job.total == 5 and job.processed == 5 and job.created == 0
    assert job.errors == [
        {"row": 3, "column": "email", "message": "not a valid email address"},
        {"row": 5, "column": "manager_email", "message": "no active user with email nobody@x.example"},
    ]
    assert not User.objects.filter(email__endswith="@x.example").exists()


@pytest.mark.django_db
def test_skip_writes_exactly_the_good_rows(admin_user, people_kind):
    job = _run(admin_user, CSV, on_error="skip")
    assert job.status == "succeeded"
    assert (job.created, job.updated) == (3, 0)
    assert sorted(User.objects.filter(email__endswith="@x.example").values_list("email", flat=True)) == [
        "ann@x.example", "cy@x.example", "eve@x.example"]
    assert User.objects.get(email="ann@x.example").manager == admin_user


@pytest.mark.django_db
def test_dry_run_counts_but_writes_nothing(admin_user, people_kind):
    job = _run(admin_user, CSV, on_error="skip", dry_run=True)
    assert job.status == "succeeded" and job.created == 3
    assert "would be" in job.message
    assert not User.objects.filter(email__endswith="@x.example").exists()


@pytest.mark.django_db
def test_bad_bytes_wrong_column_count_and_in_file_duplicates_are_row_errors(admin_user, people_kind):
    content = (
        b"E-mail,First name,Manager email\n"
        b"ann@x.example,Ann,\n"
        b"bob@x.example,B\xff\xfeb,\n"
        b"cy@x.example,Cy\n"
        b"ANN@x.example,Ann again,\n"
    )
    job = _run(admin_user, content)
    assert job.status == "failed"
    assert job.errors == [
        {"row": 3, "column": "first_name", "message": "contains bytes that are not UTF-8"},
        {"row": 4, "column": "", "message": "expected 3 columns, found 2"},
        {"row": 5, "column": "email", "message": "duplicate of row 2 in this file"},
    ]
    assert not User.objects.filter(email__endswith="@x.example").exists()


@pytest.mark.django_db
def test_mapping_problems_are_refused_before_the_job_starts(admin_user, manager, people_kind):
    with pytest.raises(imports.ImportSetupError, match="required columns not mapped: email"):
        imports.import_job_create(actor=admin_user, kind="test_people", content=CSV, mapping={"First name": "first_name"})
    with pytest.raises(imports.ImportSetupError, match="unknown columns"):
        imports.import_job_create(actor=admin_user, kind="test_people", content=CSV, mapping={"E-mail": "mail"})
    content = b"email,created_at\na@x.example,2020-01-01\n"
    with pytest.raises(imports.ImportSetupError, match="only admins may import created_at"):
        imports.import_job_create(actor=manager, kind="test_people", content=content)
    # guessed mapping ignores case, spaces and dashes
    job = imports.import_job_create(actor=admin_user, kind="test_people", content=CSV)
    assert job.mapping == MAPPING


@pytest.mark.django_db
def test_import_api_runs_the_job_and_reports_progress(admin_user, api, people_kind, django_capture_on_commit_callbacks):
    client = api.as_user(admin_user)
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "kind": "test_people", "mapping": json.dumps(MAPPING),
                                                    "on_error": "skip"}, format="multipart")
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "succeeded"
    assert (job["total"], job["processed"], job["created"], job["updated"]) == (5, 5, 3, 0)
    assert {e["row"] for e in job["errors"]} == {3, 5}


@pytest.mark.django_db
def test_import_api_refuses_a_role_without_import_rights_and_hides_other_users_jobs(admin_user, rep, manager, api,
                                                                                     people_kind):
    # A rep's role may import nothing: refused before the upload is read
    client = api.as_user(rep)
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    response = client.post("/api/v1/imports/", {"file": upload, "kind": "test_people"}, format="multipart")
    assert response.status_code == 403
    # A manager who may import names an unknown kind: the error names the field
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    response = api.as_user(manager).post("/api/v1/imports/", {"file": upload, "kind": "no_such_kind"},
                                         format="multipart")
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]
    client = api.as_user(rep)
    job = ImportJob.objects.create(kind="test_people", content=CSV, created_by=admin_user)
    assert client.get(f"/api/v1/imports/{job.pk}/").status_code == 404


@pytest.mark.django_db
def test_import_pages_map_columns_and_show_progress(admin_user, client, people_kind, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("people.csv", CSV, content_type="text/csv")
    response = client.post("/imports/new/", {"kind": "test_people", "file": upload})
    assert response.status_code == 302
    page = client.get(response.url)
    assert "Match the file&#x27;s columns" in page.content.decode() or "Match the file" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {"map_0": "email", "map_1": "first_name", "map_2": "manager_email", "on_error": "abort"})
    page = client.get(response.url).content.decode()
    assert "Failed" in page and "not a valid email address" in page


@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), (-5, -5), (None, ""),
])
def test_export_escapes_formula_cells(value, expected):
    assert escape_cell(value) == expected


def test_export_rows_are_csv_with_escaped_cells():
    text = "".join(csv_rows(["name"], [["=HYPERLINK(1)"], ["ok"]]))
    assert text.splitlines()[1:] == ["'=HYPERLINK(1)", "ok"]
