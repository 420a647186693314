"""An access request: one archive (a zip of JSON) of everything held about the person."""

import io
import json
import zipfile

import pytest

from salesapp import privacy
from tests.privacy.world import EMAIL, LAST, person_with_history

pytestmark = pytest.mark.django_db


def _files(archive: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: json.loads(z.read(name)) for name in z.namelist()}


def test_the_archive_holds_the_lead_contact_activities_and_audit_entries(backend, admin, manager, rep):
    person = person_with_history(rep=rep, manager=manager)

    request = privacy.privacy_request_create(actor=admin, kind="access", email=EMAIL)
    request = privacy.privacy_request_run(request.pk)

    assert request.status == "succeeded", request.message
    files = _files(bytes(request.archive))
    assert set(files) == {"manifest.json", "leads.json", "contacts.json", "activities.json", "audit.json",
                          "data_access.json"}
    assert [lead["email"] for lead in files["leads.json"]["leads"]] == [EMAIL]
    assert [c["email"] for c in files["contacts.json"]["contacts"]] == [EMAIL]
    assert [d["amount"] for d in files["contacts.json"]["deals"]] == ["5000.00"]
    assert [a["subject"] for a in files["activities.json"]] == [f"Call with Zebulon {LAST}"]
    audited = {(e["content_type__model"], e["object_id"]) for e in files["audit.json"]}
    assert {("lead", person.lead.pk), ("contact", person.deal.contacts.get().pk),
            ("activity", person.activities[0])} <= audited
    assert sorted(e["kind"] for e in files["data_access.json"]) == ["detail", "search"]
    assert files["leads.json"]["leads"][0]["lawful_basis"] == ""  # consent travels with the record
    # Nothing was changed by reading.
    person.lead.refresh_from_db()
    assert person.lead.email == EMAIL and request.receipt["found"]["leads.lead"] == 1


def test_an_opt_out_marks_the_persons_records(admin, manager, rep):
    person = person_with_history(rep=rep, manager=manager)

    request = privacy.privacy_request_create(actor=admin, kind="opt_out", email=EMAIL)
    request = privacy.privacy_request_run(request.pk)

    person.lead.refresh_from_db()
    assert request.receipt["opted_out"] == {"leads": 1, "contacts": 1}
    assert person.lead.do_not_sell and person.deal.contacts.get().do_not_sell
