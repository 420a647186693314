"""The data-access audit: who read which records, when and from where, written after the response."""

import datetime as dt

import pytest
from django.utils import timezone

from salesapp.models import DataAccess, RetentionPolicy
from salesapp.retention import retention_run
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _entries(**filters):
    return list(DataAccess.objects.filter(**filters).order_by("id"))


def test_opening_a_leads_page_leaves_an_entry_naming_the_user(client, rep):
    lead = LeadFactory(assigned_to=rep)
    client.force_login(rep)

    response = client.get(f"/leads/{lead.pk}/", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 200
    [entry] = _entries(kind="detail")
    assert (entry.user, entry.model, entry.object_ids, entry.address) == (rep, "leads.lead", [lead.pk], "203.0.113.7")
    assert entry.path == f"/leads/{lead.pk}/"


def test_exporting_leads_leaves_an_entry_with_the_filter_and_row_count(client, rep):
    LeadFactory.create_batch(3, assigned_to=rep, company="Acme")
    LeadFactory(assigned_to=rep, company="Other")
    client.force_login(rep)

    response = client.get("/leads/export/", {"status": "new"})
    body = b"".join(response.streaming_content)

    [entry] = _entries(kind="export")
    assert entry.user == rep and entry.model == "leads.lead"
    assert entry.filters == {"status": "new"}
    assert entry.count == 4 == body.count(b"\n") - 1


def test_an_api_export_is_recorded_once(api, rep):
    LeadFactory.create_batch(2, assigned_to=rep)

    response = api.as_user(rep).get("/api/v1/leads/export/")
    b"".join(response.streaming_content)

    assert [(e.kind, e.count) for e in _entries()] == [("export", 2)]


def test_api_detail_and_list_reads_are_recorded(api, rep):
    leads = LeadFactory.create_batch(2, assigned_to=rep)
    client = api.as_user(rep)

    client.get(f"/api/v1/leads/{leads[0].pk}/")
    client.get("/api/v1/leads/", {"status": "new"})
    client.get("/api/v1/leads/", {"q": "acme"})

    detail, listed, searched = _entries()
    assert (detail.kind, detail.object_ids, detail.user) == ("detail", [leads[0].pk], rep)
    assert (listed.kind, sorted(listed.object_ids), listed.count, listed.filters) == (
        "list", sorted(lead.pk for lead in leads), 2, {"status": "new"})
    assert (searched.kind, searched.filters) == ("search", {"q": "acme"})


def test_a_refused_read_records_nothing(api, rep, other_rep):
    lead = LeadFactory(assigned_to=rep)

    assert api.as_user(other_rep).get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert _entries() == []


def test_entries_past_retention_are_purged(rep):
    RetentionPolicy.objects.filter(data_type="data_access").update(keep_days=30, enabled=True)
    now = timezone.now()
    old = DataAccess.objects.create(user=rep, kind="detail", model="leads.lead", at=now - dt.timedelta(days=31))
    recent = DataAccess.objects.create(user=rep, kind="detail", model="leads.lead", at=now - dt.timedelta(days=29))

    assert retention_run(dry_run=False, now=now).report["data_access"]["changed"] == 1
    assert _entries() == [recent] and old.pk not in {e.pk for e in _entries()}


def test_the_admin_console_lists_entries_read_only_filtered_by_user(client, admin_user, rep):
    DataAccess.objects.create(user=rep, kind="export", model="leads.lead", count=3)
    client.force_login(admin_user)

    listing = client.get("/admin/salesapp/dataaccess/", {"user__id__exact": rep.pk, "model": "leads.lead"})

    assert listing.status_code == 200
    assert str(rep) in listing.content.decode() and "1 data access" in listing.content.decode()
    assert client.get("/admin/salesapp/dataaccess/add/").status_code == 403
