"""The index rebuilt by alias while searches run, and checked for drift against the database."""

import threading

import pytest
from django.core.management import CommandError, call_command

from leads import services as leads
from leads.models import Lead
from salesapp import search_engine
from salesapp.search import SearchRequest, search_records
from salesapp.search_kinds import ParsedQuery, created_ranges, search_kinds
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _search(user, text):
    return search_records(user=user, request=SearchRequest(text=text))


def test_a_rebuild_by_alias_while_searches_run_never_answers_an_error_or_nothing(search_on, admin_user, delivered):
    # Given 300 leads in the database and in the index
    LeadFactory.create_batch(300, company="Parallax Systems")
    search_engine.rebuild("lead")
    body = search_engine.search_body(user=admin_user, query=ParsedQuery(text="parallax", words=("parallax",)),
                                     kinds=search_kinds(), chosen=search_kinds(), filters=[], facets=[],
                                     created=created_ranges(), offset=0, size=5)
    before = search_engine._indices_behind(search_engine.alias("lead"))
    answers, failures, done = [], [], threading.Event()

    def keep_searching():
        while not done.is_set():
            try:
                answers.append(search_engine.search(kinds=search_kinds(), body=body)["hits"]["total"]["value"])
            except Exception as exc:  # noqa: BLE001  (any failure is what this test looks for)
                failures.append(repr(exc))

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        # When the index is rebuilt in small batches, and a lead changes half-way through
        changed = []

        def progress(done_rows, total):
            if done_rows == 100:
                with delivered():
                    lead = leads.lead_update(actor=admin_user, lead=Lead.objects.order_by("pk").last(),
                                             company="Parallax Mid-Rebuild")
                changed.append(lead.pk)

        report = search_engine.rebuild("lead", batch_size=50, progress=progress)
    finally:
        done.set()
        searcher.join()

    # Then every search answered, and never with nothing
    assert failures == []
    assert len(answers) > 0 and min(answers) == 300
    # and the alias now points at the new index alone; the old one is gone
    assert search_engine._indices_behind(search_engine.alias("lead")) == [report.index]
    assert report.dropped == before and report.documents == 300
    assert search_engine._indices_behind(search_engine.next_alias("lead")) == []
    # and the change made during the rebuild is in the new index (the consumer wrote it there too)
    assert [r["id"] for r in _search(admin_user, "company:mid-rebuild")["results"]] == changed


def test_drift_check_finds_missing_stale_and_extra_records_and_repairs_them(search_on, admin_user, delivered):
    with delivered():
        kept = [leads.lead_create(actor=admin_user, first_name="Drift", last_name=f"Lead {i}", company="Tidal",
                                  email=f"drift{i}@tidal.example") for i in range(3)]
    clean = search_engine.drift("lead", seed=1)
    assert clean.clean and clean.database == clean.index == 3

    missing = LeadFactory(company="Tidal")  # written without an event
    Lead.objects.filter(pk=kept[0].pk).update(company="Tidal Changed", updated_at=kept[0].updated_at.replace(
        year=kept[0].updated_at.year + 1))  # changed without an event
    gone = kept[1].pk
    Lead.objects.filter(pk=gone).delete()  # deleted without an event

    report = search_engine.drift("lead", seed=1)
    assert (report.database, report.index) == (3, 3)
    assert report.missing == [missing.pk] and report.stale == [kept[0].pk] and report.extra == [gone]
    assert not report.clean

    with pytest.raises(CommandError, match="drift in lead"):
        call_command("search_index", "check", "--kind", "lead")
    call_command("search_index", "check", "--kind", "lead", "--repair")
    assert search_engine.drift("lead", seed=2).clean


def test_the_rebuild_command_reports_progress_and_swaps_every_kind(search_on, admin_user, capsys):
    LeadFactory.create_batch(5, company="Progress")
    call_command("search_index", "rebuild", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "lead: 2 / 5" in out and "lead: 5 / 5" in out
    assert "lead: 5 documents into" in out and "alias swapped" in out
    assert _search(admin_user, "progress")["total"] == 5


def test_the_command_needs_a_configured_engine(settings):
    settings.ELASTICSEARCH_URL = ""
    with pytest.raises(CommandError, match="ELASTICSEARCH_URL is not set"):
        call_command("search_index", "check")
