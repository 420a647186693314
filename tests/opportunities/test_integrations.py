"""How opportunities works with the other apps: activities, timelines, realignment, imports, normalisers."""

from datetime import UTC, date, datetime

import pytest

from activities import timeline
from opportunities.history import OpportunityRealignment, stage_history_provider
from opportunities.models import Opportunity, StageHistory
from opportunities.services import accounts, deals
from salesapp import events, imports
from salesapp.normalize import domain_of, normalize_company, normalize_email, normalize_phone
from tests.opportunities.factories import AccountFactory, OpportunityFactory


def test_normalisers():
    assert normalize_company("Acme, Inc.") == normalize_company("ACMÉ GmbH") == normalize_company("acme") == "acme"
    assert normalize_company("The Acme Company Ltd.") == "acme"
    assert normalize_email("  Jo@Example.COM ") == "jo@example.com"
    assert normalize_phone("+1 (555) 010-0000 ext. 12") == "+15550100000"
    assert normalize_phone("0044 20 7946 0000") == "+442079460000"
    assert domain_of("https://www.Acme.com/about") == domain_of("jo@acme.com") == domain_of("acme.com") == "acme.com"


@pytest.mark.django_db
def test_account_find_match_by_domain_then_name(rep):
    account = AccountFactory(owner=rep, name="Initech LLC", website_domain="initech.example")
    assert accounts.account_find_match(website_domain="http://www.initech.example/x") == account
    assert accounts.account_find_match(company_name="INITECH, llc.") == account
    assert accounts.account_find_match(company_name="Initrode") is None


@pytest.mark.django_db
def test_activity_logged_moves_last_activity_forward(rep, django_capture_on_commit_callbacks):
    opp = OpportunityFactory(owner=rep)
    when = datetime(2026, 5, 1, 10, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("activity.logged", {
            "activity_id": 1, "type": "call", "lead_id": None, "opportunity_id": opp.pk,
            "account_id": opp.account_id, "user_id": rep.pk, "occurred_at": when.isoformat(),
            "completed_at": when.isoformat()})
    opp.refresh_from_db()
    opp.account.refresh_from_db()
    assert opp.last_activity_at == when
    assert opp.account.last_activity_at == when
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("activity.logged", {
            "activity_id": 2, "type": "call", "lead_id": None, "opportunity_id": opp.pk, "account_id": None,
            "user_id": rep.pk, "occurred_at": "2026-01-01T00:00:00+00:00", "completed_at": "2026-01-01T00:00:00+00:00"})
    opp.refresh_from_db()
    assert opp.last_activity_at == when  # an older activity does not move it back


@pytest.mark.django_db
def test_timeline_provider_gives_stage_changes(rep):
    opp = OpportunityFactory(owner=rep)
    deals.opportunity_update(actor=rep, opportunity=opp, stage="proposal")
    entries = stage_history_provider(timeline.TimelineEntry)([opp.pk], None, 10)
    assert [e.title for e in entries] == ["Stage discovery → proposal", "Opportunity created in discovery"]


@pytest.mark.django_db
def test_realignment_offers_open_deals_only(rep):
    open_deal = OpportunityFactory(owner=rep)
    closed = OpportunityFactory(owner=rep)
    deals.opportunity_close(actor=rep, opportunity=closed, outcome="won")
    offered = [pk for batch in OpportunityRealignment().iter_candidates(100) for pk, _, _ in batch]
    assert offered == [open_deal.pk]


@pytest.mark.django_db
def test_import_opportunities_with_original_dates_and_row_errors(admin_user, rep):
    AccountFactory(owner=rep, name="Hooli Inc")
    csv = (
        "name,account_name,owner_email,stage,amount,loss_reason,actual_close_date,created_at\n"
        f"Old win,Hooli,{rep.email},closed_won,5000,,2025-03-10,2025-01-05\n"
        f"Old loss,Hooli Inc.,{rep.email},closed_lost,100,Price,2025-04-01,2025-02-01\n"
        f"Open,Hooli,{rep.email},proposal,700,,,\n"
        f"Bad,Nowhere Corp,{rep.email},discovery,-5,,,\n"
    ).encode()
    job = imports.import_job_create(actor=admin_user, kind="opportunities", content=csv)
    job = imports.import_job_run(job.pk)
    assert job.status == "failed"
    assert {(e["row"], e["column"]) for e in job.errors} == {(5, "account_name"), (5, "amount")}
    assert not Opportunity.objects.exists()

    job = imports.import_job_create(actor=admin_user, kind="opportunities", content=csv, on_error="skip")
    job = imports.import_job_run(job.pk)
    assert (job.status, job.created) == ("succeeded", 3)
    won = Opportunity.objects.get(name="Old win")
    assert (won.stage_id, won.actual_close_date, won.created_at.date()) == ("closed_won", date(2025, 3, 10),
                                                                          date(2025, 1, 5))
    assert StageHistory.objects.filter(opportunity=won, to_stage="closed_won").get().changed_at.date() == date(
        2025, 3, 10)
    assert Opportunity.objects.get(name="Old loss").loss_reason.name == "Price"


@pytest.mark.django_db
def test_import_accounts_and_contacts(admin_user):
    job = imports.import_job_run(imports.import_job_create(
        actor=admin_user, kind="accounts",
        content=b"name,website_domain,billing_country,employee_count\nUmbrella Corp,umbrella.example,US,50\n"
                b"Umbrella Corporation,,US,60\n").pk)
    assert job.errors == [{"row": 3, "column": "name", "message": "duplicate of row 2 in this file"}]
    job = imports.import_job_run(imports.import_job_create(
        actor=admin_user, kind="accounts", on_error="skip",
        content=b"name,website_domain,billing_country,employee_count\nUmbrella Corp,umbrella.example,US,50\n").pk)
    assert job.created == 1
    job = imports.import_job_run(imports.import_job_create(
        actor=admin_user, kind="contacts",
        content=b"account_name,first_name,last_name,email\numbrella.example,Al,Wesker,al@umbrella.example\n").pk)
    assert (job.status, job.created) == ("succeeded", 1), job.errors
