"""Importing activities (kind=activities) through the kernel's CSV import framework."""

import pytest

from salesapp import imports
from salesapp.models import ImportJob
from tests.activities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _run(actor, csv_text: str, **kwargs) -> ImportJob:
    job = imports.import_job_create(actor=actor, kind="activities", content=csv_text.encode(), filename="a.csv", **kwargs)
    return imports.import_job_run(job.pk)


def test_admin_imports_history_with_original_timestamps(backend, admin_user, rep):
    deal = OpportunityFactory(owner=rep)
    job = _run(admin_user, (
        "type,subject,opportunity_id,owner_email,completed_at,created_at,duration_minutes,email_opened\n"
        f"call,Old call,{deal.pk},{rep.email},2023-04-01T10:00:00Z,2023-04-01T10:00:00Z,12,\n"
        f"email,Old email,{deal.pk},{rep.email},2023-04-02 09:00,2023-04-02 09:00,,true\n"
    ))
    assert job.status == ImportJob.Status.SUCCEEDED, (job.message, job.errors)
    docs = backend.find(("eq", "opportunity_id", deal.pk))
    assert [d["subject"] for d in docs] == ["Old email", "Old call"]
    assert docs[1]["created_at"].year == 2023 and docs[1]["user_id"] == rep.pk
    assert docs[0]["metadata"] == {"email_opened": True} and docs[0]["account_id"] == deal.account_id


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(backend, manager, rep):
    job = _run(manager, (
        "type,subject,duration_minutes,owner_email\n"
        f"call,fine,10,{rep.email}\n"
        "fax,bad type,,\n"
        "call,negative,-4,\n"
    ))
    assert job.status == ImportJob.Status.FAILED
    assert {(e["row"], e["column"]) for e in job.errors} == {(3, "type"), (4, "duration_minutes")}
    assert backend.count() == 0


def test_only_admins_may_import_original_timestamps(sql_store, manager):
    with pytest.raises(imports.ImportSetupError) as exc:
        _run(manager, "type,created_at\ncall,2023-01-01T00:00:00Z\n")
    assert exc.value.field == "mapping"
