"""Moving in from another CRM: the sample export (tests/fixtures/crm_export) imported as one zip."""

import io
import zipfile
from pathlib import Path

import pytest

from activities.models import Activity
from intelligence.models import ScoringModel
from intelligence.services import model_train
from leads.models import Lead, LeadHistory
from opportunities.models import Account, Contact, Opportunity, StageHistory
from salesapp.imports import import_job_create, import_job_run
from salesapp.models import ImportJob
from salesapp.roles import Role
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db
EXPORT = Path(__file__).parent.parent / "fixtures" / "crm_export"
MAPPING = {
    "accounts.csv": {"Account ID": "external_id", "Account Name": "name", "Website": "website_domain",
                     "Industry": "industry", "Employees": "employee_count", "Annual Revenue": "annual_revenue",
                     "Billing Country": "billing_country", "Owner": "owner_email", "Created": "created_at"},
    "contacts.csv": {"Contact ID": "external_id", "Account ID": "account_external_id", "First Name": "first_name",
                     "Last Name": "last_name", "Email": "email", "Title": "title", "Owner": "owner_email",
                     "Created": "created_at"},
    "leads.csv": {"Lead ID": "external_id", "Email": "email", "First Name": "first_name", "Last Name": "last_name",
                  "Company": "company", "Job Title": "title", "Industry": "industry", "Employees": "employee_count",
                  "Lead Source": "source", "Country": "country", "Status": "status", "Owner": "owner_email",
                  "Created": "created_at", "Status Changed": "status_changed_at", "Converted At": "converted_at"},
    "deals.csv": {"Deal ID": "external_id", "Deal Name": "name", "Account ID": "account_external_id",
                  "Lead ID": "lead_external_id", "Contact Email": "contact_email", "Owner": "owner_email",
                  "Stage": "stage", "Amount": "amount", "Expected Close": "expected_close_date",
                  "Close Date": "actual_close_date", "Loss Reason": "loss_reason", "Created": "created_at"},
    "stage_changes.csv": {"Deal ID": "opportunity_external_id", "Stage": "stage", "Entered At": "entered_at"},
    "activities.csv": {"Activity ID": "external_id", "Type": "type", "Subject": "subject",
                       "Deal ID": "opportunity_external_id", "Owner": "owner_email", "Scheduled": "scheduled_at",
                       "Completed": "completed_at", "Created": "created_at", "Lead ID": "lead_external_id",
                       "Lead Email": "lead_email"},
}


def _zip(replace: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in MAPPING:
            text = (EXPORT / name).read_text()
            for old, new in (replace or {}).get(name, []):
                text = text.replace(old, new)
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def importer():
    admin = UserFactory(role=Role.ADMIN)
    for email in ("ava.reed@example.com", "ben.ortiz@example.com"):
        UserFactory(email=email, role=Role.SALES_REP, manager=admin)
    return admin


def _run(actor, content, **kw):
    job = import_job_create(actor=actor, kind="bundle", content=content, filename="export.zip", mapping=MAPPING, **kw)
    return import_job_run(job.pk)


def _counts():
    return (Account.objects.count(), Contact.objects.count(), Lead.objects.count(), Opportunity.objects.count(),
            StageHistory.objects.count(), Activity.objects.count())


def test_the_sample_export_creates_every_record_once_and_a_second_import_only_updates(importer):
    first = _run(importer, _zip())
    assert first.status == ImportJob.Status.SUCCEEDED, (first.message, first.errors[:3])
    assert _counts()[:4] == (60, 120, 420, 120)
    assert Activity.objects.count() == 1740
    created = _counts()

    second = _run(importer, _zip())
    assert second.status == ImportJob.Status.SUCCEEDED, (second.message, second.errors[:3])
    assert second.created == 0 and second.updated == first.created
    assert _counts() == created

    lead = Lead.objects.get(external_id="LD-00000")
    deal = Opportunity.objects.get(external_id="OPP-00000")
    assert lead.status == "converted" and lead.converted_opportunity == deal and deal.lead_id == lead.pk
    assert lead.converted_contact.email == lead.email and lead.created_at.isoformat().startswith("2024-01-08")
    stages = list(deal.stage_history.order_by("changed_at").values_list("to_stage", "changed_at"))
    assert [s for s, _ in stages][-4:] == ["qualification", "proposal", "negotiation", "closed_lost"]
    assert stages[1][1].isoformat().startswith("2024-01-17")  # entered as the export says, not today
    touches = Activity.objects.filter(opportunity_id=deal.pk).order_by("occurred_at")
    assert touches.count() == 4 and touches[0].occurred_at.isoformat().startswith("2024-01-14")
    dropped = Lead.objects.get(external_id="LD-00001")
    assert dropped.history.filter(kind=LeadHistory.Kind.STATUS, to_value="unqualified").get().created_at.year == 2024


def test_an_unknown_reference_is_a_row_error_naming_the_column_and_abort_writes_nothing(importer):
    broken = _zip({"activities.csv": [("OPP-00007,", "OPP-99999,")]})
    job = _run(importer, broken)
    assert job.status == ImportJob.Status.FAILED
    assert {e["column"] for e in job.errors} == {"opportunity_external_id"}
    assert "OPP-99999" in job.errors[0]["message"] and "activities.csv" in job.errors[0]["message"]
    assert _counts() == (0, 0, 0, 0, 0, 0)


def test_training_after_the_import_learns_from_the_imported_leads(importer, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.IMPORT_TRAINING_MIN_ROWS = 1000  # the sample export counts as a big import
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(importer, _zip()).status == ImportJob.Status.SUCCEEDED
    # the import's end trained the lead model by itself, on the imported converted and unqualified leads
    trained = ScoringModel.objects.filter(kind="lead").order_by("-version").first()
    assert trained is not None
    assert trained.metrics["records_train"] + trained.metrics["records_holdout"] >= 200
    assert trained.metrics["n_train"] > trained.metrics["records_train"]  # examples: each lead at several ages
    # and training on demand reports the same history
    report = model_train(actor=importer, kind="lead")
    assert report["kind"] == "lead" and report["models"][0]["auc"] is not None
    open_lead = Lead.objects.get(external_id="LD-00005")  # a new lead of the export
    assert open_lead.status == "new" and open_lead.score_factors
