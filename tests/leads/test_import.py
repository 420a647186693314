"""Lead CSV imports: the bad-row matrix, abort vs skip, update by email, original timestamps."""

import datetime as dt

import pytest

from leads.dedup import lead_find_by_email
from leads.models import Lead
from salesapp import imports
from tests.leads.factories import LeadFactory, make_territory

HEADER = "email,first_name,last_name,company,annual_revenue,country,state,owner_email,territory\n"


def _run(actor, body: bytes, **kw):
    job = imports.import_job_create(actor=actor, kind="leads", content=HEADER.encode() + body, **kw)
    return imports.import_job_run(job.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("line, column, message", [
    (b",Ann,Lee,Acme,,,,,\n", "email", "this field is required"),
    (b"not-an-email,Ann,Lee,Acme,,,,,\n", "email", "Enter a valid email address."),
    (b"ann@acme.example,Ann,Lee,Acme,-5,,,,\n", "annual_revenue", "Must not be negative."),
    (b"ann@acme.example,Ann,Lee,Acme,,XX,,,\n", "country", "'XX' is not an ISO 3166 country code."),
    (b"ann@acme.example,Ann,Lee,Acme,,,,ghost@nowhere.example,\n", "owner_email",
     "no active user with email ghost@nowhere.example"),
    (b"ann@acme.example,Ann,Lee,Acme,,,,,Atlantis\n", "territory", "no territory named 'Atlantis'"),
    (b"ann@acme.example,Ann,Lee\n", "", "expected 9 columns, found 3"),
    (b"ann@acme.example,An\xe9,Lee,Acme,,,,,\n", "first_name", "contains bytes that are not UTF-8"),
])
def test_each_kind_of_bad_row_is_reported_with_its_row_and_nothing_is_written(manager, line, column, message):
    good = b"ok@fine.example,Ok,Fine,Fine Co,100,US,CA,,\n"
    job = _run(manager, good + line)
    assert job.status == "failed"
    assert {"row": 3, "column": column, "message": message} in job.errors
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_duplicates_inside_the_file_are_reported(manager):
    job = _run(manager, b"a@x.example,A,,,,,,,\nb@x.example,B,,,,,,,\nA@X.example,A2,,,,,,,\n")
    assert job.errors == [{"row": 4, "column": "email", "message": "duplicate of row 2 in this file"}]
    assert Lead.objects.count() == 0


FIVE_ROWS = (
    b"one@a.example,One,A,Alpha,1000,US,CA,,\n"
    b"broken-email,Two,B,Beta,,US,,,\n"
    b"three@c.example,Three,C,Gamma,,US,NY,,\n"
    b"four@d.example,Four,D,Delta,-20,US,,,\n"
    b"five@e.example,Five,E,Epsilon,,DE,,,\n"
)


@pytest.mark.django_db
def test_five_rows_two_bad_default_import_reports_both_and_writes_nothing(manager):
    job = _run(manager, FIVE_ROWS)
    assert job.status == "failed"
    assert sorted({e["row"] for e in job.errors}) == [3, 5]
    assert job.message == "2 bad rows; nothing was written"
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_five_rows_two_bad_with_skip_writes_exactly_the_three_good_ones(manager):
    job = _run(manager, FIVE_ROWS, on_error="skip")
    assert job.status == "succeeded"
    assert (job.created, job.updated) == (3, 0)
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["five@e.example", "one@a.example",
                                                                   "three@c.example"]


@pytest.mark.django_db
def test_rows_matching_an_existing_lead_by_email_update_it(manager, rep):
    existing = LeadFactory(email="Known@Acme.example", company="", assigned_to=rep)
    make_territory("West", members=[rep], states=["CA"])
    job = _run(manager, b"known@acme.example,Kim,Known,Acme Inc,5000,US,CA,rep@test.example,West\n"
                        b"new@b.example,New,Person,B Ltd,,US,CA,,\n")
    assert (job.status, job.created, job.updated) == ("succeeded", 1, 1)
    existing.refresh_from_db()
    assert existing.company == "Acme Inc"
    assert existing.territory.name == "West"
    assert Lead.objects.count() == 2
    assert lead_find_by_email("new@b.example").assigned_to == rep  # routed


@pytest.mark.django_db
def test_admins_may_carry_the_original_created_at(admin_user, manager):
    content = b"email,created_at\nold@a.example,2019-05-04T10:00:00Z\n"
    job = imports.import_job_create(actor=admin_user, kind="leads", content=content)
    imports.import_job_run(job.pk)
    assert Lead.objects.get().created_at == dt.datetime(2019, 5, 4, 10, 0, tzinfo=dt.UTC)
    with pytest.raises(imports.ImportSetupError, match="only admins"):
        imports.import_job_create(actor=manager, kind="leads", content=content)


@pytest.mark.django_db
def test_reps_may_not_import(rep):
    with pytest.raises(imports.ImportSetupError, match="may not import"):
        imports.import_job_create(actor=rep, kind="leads", content=HEADER.encode())


@pytest.mark.django_db
def test_import_api_end_to_end(manager, api, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api.as_user(manager)
    upload = SimpleUploadedFile("leads.csv", HEADER.encode() + FIVE_ROWS, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "kind": "leads"}, format="multipart")
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert job["status"] == "failed"
    assert [e["row"] for e in job["errors"]] == [3, 5]
    assert all(set(e) == {"row", "column", "message"} for e in job["errors"])
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_import_page_from_the_lead_list_then_rerun_keeping_the_good_rows(manager, client,
                                                                           django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(manager)
    assert "/imports/new/?kind=leads" in client.get("/leads/").content.decode()
    upload = SimpleUploadedFile("leads.csv", HEADER.encode() + FIVE_ROWS, content_type="text/csv")
    job_url = client.post("/imports/new/", {"kind": "leads", "file": upload}).url
    mapping = {f"map_{i}": name for i, name in enumerate(HEADER.strip().split(","))}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_url, {**mapping, "on_error": "abort"})
    page = client.get(job_url).content.decode()
    assert "2 bad rows; nothing was written" in page and "Import the good rows only" in page
    assert Lead.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(job_url + "run/", {"on_error": "skip"})
    page = client.get(response.url).content.decode()
    assert "3 created and 0 updated were written; 2 bad rows skipped" in page
    assert Lead.objects.count() == 3


@pytest.mark.django_db
def test_likely_duplicates_under_another_email_are_reported(manager):
    LeadFactory(email="jo@acme.example", first_name="Jo", last_name="Smith", company="Acme Inc", assigned_to=manager)
    job = _run(manager, b"jo.smith@gmail.example,Jo,Smith,ACME GmbH,,,,,\n")
    assert job.status == "failed"
    assert job.errors[0]["row"] == 2 and job.errors[0]["column"] == "company"
    assert "likely duplicate (same person at the same company) of lead" in job.errors[0]["message"]
