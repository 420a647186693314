"""After an erasure, the person's email is refused everywhere a lead or contact is captured, with a clear error."""

import pytest

from leads.models import Lead, WebToLeadForm
from opportunities.services import contacts
from salesapp import imports, privacy
from tests.opportunities.factories import AccountFactory
from tests.privacy.world import EMAIL, person_with_history

pytestmark = pytest.mark.django_db
REFUSAL = "This person's data was erased at their request: their email cannot be captured again."


@pytest.fixture
def erased(admin, manager, rep):
    person_with_history(rep=rep, manager=manager)
    request = privacy.privacy_request_create(actor=admin, kind="erasure", email=EMAIL)
    assert privacy.privacy_request_run(request.pk).status == "succeeded"
    return Lead.objects.count()


def test_web_to_lead_refuses_the_erased_email(client, erased):
    WebToLeadForm.objects.create(name="Pricing", key="pricing", source="web", allowed_origins="")

    answer = client.post("/api/v1/web-to-lead/pricing/", {"email": EMAIL, "last_name": "Again"})

    assert answer.status_code == 400 and REFUSAL in str(answer.json())
    assert Lead.objects.count() == erased


def test_an_import_reports_the_row_with_the_erased_email(manager, erased):
    content = f"email,first_name,last_name\nnew@ok.example,New,Person\n{EMAIL},Zeb,Again\n".encode()
    job = imports.import_job_create(actor=manager, kind="leads", content=content)

    job = imports.import_job_run(job.pk)

    assert job.status == "failed" and job.errors == [{"row": 3, "column": "email", "message": REFUSAL}]
    assert Lead.objects.count() == erased


def test_the_api_and_contacts_refuse_it_too(client, rep, erased):
    client.force_login(rep)

    answer = client.post("/api/v1/leads/", {"email": EMAIL, "last_name": "Again"}, content_type="application/json")

    assert answer.status_code == 400 and REFUSAL in str(answer.json())
    with pytest.raises(Exception, match="erased at their request"):
        contacts.contact_create(actor=rep, account=AccountFactory(owner=rep), last_name="Again", email=EMAIL)
