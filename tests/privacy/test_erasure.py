"""An erasure request: the person is gone from the database, the activity store, the search index and the
audit entries; deals and the forecast stay whole; the same email cannot come back."""

import pytest
from django.core.exceptions import ValidationError

from leads import services as lead_services
from leads.models import Lead
from opportunities.models import Contact
from opportunities.selectors import CATEGORY_FIELDS, forecast_rollup
from salesapp import privacy
from salesapp.models import ErasureTombstone, PrivacyRequest
from salesapp.periods import current_quarter
from tests.privacy.world import EMAIL, FIRST, LAST, TRACES, database_traces, person_with_history, store_traces

pytestmark = pytest.mark.django_db


def _forecast(manager) -> dict:
    total = forecast_rollup(user=manager, period=current_quarter().name)["total"]
    return {name: total[name] for name in CATEGORY_FIELDS}


def _erase(admin, **who) -> PrivacyRequest:
    request = privacy.privacy_request_create(actor=admin, kind="erasure", **who)
    return privacy.privacy_request_run(request.pk)


def test_erasure_leaves_no_trace_in_the_database_or_the_activity_store(backend, admin, manager, rep):
    person = person_with_history(rep=rep, manager=manager)
    access = privacy.privacy_request_create(actor=admin, kind="access", email=EMAIL)  # they asked for a copy first
    privacy.privacy_request_run(access.pk)
    forecast = _forecast(manager)
    assert database_traces() and store_traces()  # the person is there to begin with

    request = _erase(admin, email=EMAIL.upper())

    assert request.status == "succeeded", request.message
    assert database_traces() == []
    assert store_traces() == []
    assert _forecast(manager) == forecast and forecast["pipeline"] > 0
    person.deal.refresh_from_db()
    assert person.deal.amount == 5000 and list(person.deal.contacts.all()) == [Contact.objects.get()]
    lead = Lead.objects.get(pk=person.lead.pk)
    assert (lead.status, lead.company, lead.erased_at is not None) == ("converted", "Acme Widgets", True)
    assert Lead.objects.get(pk=person.bystander.pk).last_name == "Other"
    assert request.receipt["erased"]["leads"] == 1 and request.receipt["erased"]["contacts"] == 1
    assert request.receipt["erased"]["activities"] == 1  # the call on the lead; the deal's meeting stays, redacted
    assert request.email == "" and request.subject_key == privacy.email_key(EMAIL)
    access.refresh_from_db()
    assert (access.email, access.archive, access.subject_key) == ("", None, request.subject_key)


def test_the_same_email_is_refused_after_erasure(admin, manager, rep):
    person_with_history(rep=rep, manager=manager)
    _erase(admin, email=EMAIL)

    with pytest.raises(ValidationError) as refused:
        lead_services.lead_create(actor=rep, first_name=FIRST, last_name=LAST, email=f" {EMAIL.upper()} ")

    assert "erased at their request" in refused.value.message_dict["email"][0]
    assert ErasureTombstone.objects.count() == 1


def test_an_erasure_named_by_record_finds_the_person(admin, manager, rep):
    person = person_with_history(rep=rep, manager=manager)

    request = _erase(admin, record_kind="lead", record_id=person.lead.pk)

    assert request.status == "succeeded" and request.receipt["found"]["leads.lead"] == 1
    assert database_traces() == []


def test_erasure_clears_the_search_index(search_on, delivered, admin, manager, rep):
    from salesapp import search_engine

    with delivered():
        person_with_history(rep=rep, manager=manager)
    es = search_engine.client()

    def indexed_traces():
        hits = es.search(index=f"{search_on and ''}*", body={"query": {"match_all": {}}, "size": 1000})
        return [t for hit in hits["hits"]["hits"] for t in TRACES if t.casefold() in str(hit["_source"]).casefold()]

    assert indexed_traces()
    with delivered():
        request = _erase(admin, email=EMAIL)

    assert request.status == "succeeded", request.message
    assert indexed_traces() == []


def test_an_erasure_resumed_after_a_crash_finds_the_records_it_already_anonymised(admin, manager, rep):
    person = person_with_history(rep=rep, manager=manager)
    request = privacy.privacy_request_create(actor=admin, kind="erasure", email=EMAIL)
    # The first run found the person, checkpointed them and anonymised the lead; then its worker died.
    privacy._subject_of(request)
    lead_services.lead_erase(actor=admin, lead=person.lead)
    assert database_traces()  # the lead's audit entries still quote the old email

    request = privacy.privacy_request_run(request.pk)

    assert request.status == "succeeded" and request.receipt["found"]["leads.lead"] == 1
    assert database_traces() == []
