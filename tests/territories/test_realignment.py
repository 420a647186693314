"""Realignment: the preview lists the moves, apply makes exactly those, in resumable batches."""

import pytest

from leads.models import Lead
from opportunities.models import Account
from salesapp.models import OutboxEvent
from territories import realignment, services
from territories.models import RealignmentJob, Territory, TerritoryModel
from tests.territories.conftest import make_account, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(admin_user):
    na = services.territory_create(actor=admin_user, name="North America", countries=["US", "CA"])
    west = services.territory_create(actor=admin_user, name="US West Tech", parent=na, states=["CA", "WA"],
                                     industry="technology")
    return {"na": na, "west": west}


def _state(model):
    return dict(model.objects.values_list("pk", "territory_id"))


def _moves(job):
    return sorted((m.record_type, m.record_id, m.from_territory_id, m.to_territory_id) for m in job.moves.all())


def _run(job_fn, capture):
    with capture(execute=True):
        job = job_fn()
    job.refresh_from_db()
    return job


def test_preview_of_a_rule_change_equals_what_apply_does(plan, admin_user, test_providers,
                                                         django_capture_on_commit_callbacks):
    # Given records assigned under today's rules
    na, west = plan["na"], plan["west"]
    or_tech = make_account("Portland Tech", country="US", state="OR", industry="technology", territory=na)
    ca_tech = make_account("SF Tech", country="US", state="CA", industry="technology", territory=west)
    ny = make_account("NY Bank", country="US", state="NY", industry="banking", territory=na)
    or_lead = make_lead("a@or.example", country="US", state="OR", industry="Technology", territory=na)
    closed_lead = make_lead("b@or.example", country="US", state="OR", industry="technology", territory=na,
                            status="converted")
    accounts_before, leads_before = _state(Account), _state(Lead)
    # When a manager previews adding Oregon to US West Tech
    job = _run(lambda: realignment.realignment_preview_start(
        actor=admin_user, model=west.model, rule_changes=[{"territory_id": west.pk, "states": ["CA", "WA", "OR"]}],
    ), django_capture_on_commit_callbacks)
    # Then the preview lists the Oregon technology records, and nothing changed yet
    assert job.status == RealignmentJob.Status.PREVIEWED
    planned = _moves(job)
    assert planned == sorted([("accounts", or_tech.pk, na.pk, west.pk), ("leads", or_lead.pk, na.pk, west.pk)])
    assert job.totals["accounts"] == {"label": "accounts", "candidates": 3, "moves": 1}
    assert job.totals["leads"]["moves"] == 1
    assert job.flows == [{"record_type": k, "from_territory_id": na.pk, "to_territory_id": west.pk, "count": 1}
                         for k in ("accounts", "leads")]
    assert _state(Account) == accounts_before and _state(Lead) == leads_before
    assert Territory.objects.get(pk=west.pk).states == ["CA", "WA"]
    # When it is applied
    job = _run(lambda: realignment.realignment_apply(actor=admin_user, job=job), django_capture_on_commit_callbacks)
    # Then exactly the previewed moves happened, the rule is saved, each move was published
    assert job.status == RealignmentJob.Status.DONE and job.processed == job.total == 2
    after_accounts, after_leads = _state(Account), _state(Lead)
    changed = sorted(
        [("accounts", pk, accounts_before[pk], t) for pk, t in after_accounts.items() if accounts_before[pk] != t]
        + [("leads", pk, leads_before[pk], t) for pk, t in after_leads.items() if leads_before[pk] != t]
    )
    assert changed == planned
    assert after_accounts[ca_tech.pk] == west.pk and after_accounts[ny.pk] == na.pk
    assert after_leads[closed_lead.pk] == na.pk  # a converted lead keeps its territory
    assert Territory.objects.get(pk=west.pk).states == ["CA", "WA", "OR"]
    events = OutboxEvent.objects.filter(name="territory.assignment_changed")
    assert sorted((e.payload["record_type"], e.payload["record_id"], e.payload["from_territory_id"],
                   e.payload["to_territory_id"]) for e in events) == planned
    assert OutboxEvent.objects.filter(name="territory.updated", payload__territory_id=west.pk).exists()


def test_a_failed_job_resumes_without_half_applied_batches(plan, admin_user, test_providers,
                                                           django_capture_on_commit_callbacks):
    na, west = plan["na"], plan["west"]
    accounts = [make_account(f"Tech {i}", country="US", state="CA", industry="technology", territory=na)
                for i in range(5)]
    test_providers["accounts"].fail_on_batch = 2
    job = _run(lambda: realignment.realignment_preview_start(actor=admin_user, model=west.model, batch_size=2),
               django_capture_on_commit_callbacks)
    assert job.total == 5
    # When the second batch fails half-way through
    job = _run(lambda: realignment.realignment_apply(actor=admin_user, job=job), django_capture_on_commit_callbacks)
    # Then the first batch is applied, the second not at all
    assert job.status == RealignmentJob.Status.FAILED and "went away" in job.error
    assert job.processed == 2 and job.batches_done == 1
    moved = [a.pk for a in accounts if Account.objects.get(pk=a.pk).territory_id == west.pk]
    assert moved == [accounts[0].pk, accounts[1].pk]
    assert OutboxEvent.objects.filter(name="territory.assignment_changed").count() == 2
    # When it is resumed
    test_providers["accounts"].fail_on_batch = None
    job = _run(lambda: realignment.realignment_apply(actor=admin_user, job=job), django_capture_on_commit_callbacks)
    # Then the rest follows, each record moved and published once
    assert job.status == RealignmentJob.Status.DONE and job.processed == 5 and job.batches_done == 3
    assert set(Account.objects.values_list("territory_id", flat=True)) == {west.pk}
    assert OutboxEvent.objects.filter(name="territory.assignment_changed").count() == 5


def test_activating_a_planning_model_moves_records_to_its_territories(plan, admin_user, test_providers,
                                                                      django_capture_on_commit_callbacks):
    na, west = plan["na"], plan["west"]
    sf = make_account("SF Tech", country="US", state="CA", industry="technology", territory=west)
    ny = make_account("NY Bank", country="US", state="NY", territory=na)
    de = make_account("Berlin AG", country="DE", territory=None)
    draft = services.territory_model_clone(actor=admin_user, source=na.model, name="FY28")
    new_na, new_west = draft.territories.get(name="North America"), draft.territories.get(name="US West Tech")
    # Preview: everything moves to the draft's copies; nothing matches Germany
    job = _run(lambda: realignment.realignment_preview_start(actor=admin_user, model=draft),
               django_capture_on_commit_callbacks)
    assert job.kind == RealignmentJob.Kind.ACTIVATE
    assert _moves(job) == sorted([("accounts", sf.pk, west.pk, new_west.pk), ("accounts", ny.pk, na.pk, new_na.pk)])
    assert TerritoryModel.objects.get(pk=draft.pk).state == TerritoryModel.State.PLANNING
    job = _run(lambda: realignment.realignment_apply(actor=admin_user, job=job), django_capture_on_commit_callbacks)
    assert job.status == RealignmentJob.Status.DONE
    assert TerritoryModel.objects.get(pk=draft.pk).state == TerritoryModel.State.ACTIVE
    assert TerritoryModel.objects.get(pk=na.model_id).state == TerritoryModel.State.ARCHIVED
    assert _state(Account) == {sf.pk: new_west.pk, ny.pk: new_na.pk, de.pk: None}
    # The clone kept the members' access: members and grants were copied
    from territories.matching import territory_match

    assert territory_match({"country": "US", "state": "CA", "industry": "technology"}).territory.pk == new_west.pk


def test_a_preview_can_be_discarded_and_an_applied_job_not_reapplied(plan, admin_user, test_providers,
                                                                    django_capture_on_commit_callbacks):
    job = _run(lambda: realignment.realignment_preview_start(actor=admin_user, model=plan["na"].model),
               django_capture_on_commit_callbacks)
    realignment.realignment_cancel(actor=admin_user, job=job)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        realignment.realignment_apply(actor=admin_user, job=job)


def test_preview_refuses_changes_naming_unknown_territories_or_fields(plan, admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        realignment.realignment_preview_start(actor=admin_user, model=plan["na"].model,
                                              rule_changes=[{"territory_id": 999999, "states": ["CA"]}])
    assert "changes" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        realignment.realignment_preview_start(actor=admin_user, model=plan["na"].model,
                                              rule_changes=[{"territory_id": plan["west"].pk, "zip_codes": ["9*4"]}])
    assert "zip_codes" in err.value.message_dict


def test_a_job_whose_worker_died_is_resumed_by_the_watchdog(plan, admin_user, test_providers,
                                                            django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from salesapp.jobs import jobs_watchdog

    make_account("SF Tech", country="US", state="CA", industry="technology", territory=plan["na"])
    job = _run(lambda: realignment.realignment_preview_start(actor=admin_user, model=plan["na"].model),
               django_capture_on_commit_callbacks)
    # Given a job a worker is applying (its heartbeat is fresh)
    RealignmentJob.objects.filter(pk=job.pk).update(status=RealignmentJob.Status.RUNNING, heartbeat_at=timezone.now(),
                                                    runs=1, applied_by=admin_user)
    with pytest.raises(ValidationError):  # still running: no second runner
        realignment.realignment_apply(actor=admin_user, job=job)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_watchdog()["resumed"] == 0
    # When its worker dies (no heartbeat for longer than JOB_STALE_SECONDS)
    RealignmentJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_watchdog()["resumed"] == 1
    # Then the watchdog resumed it and it finished
    job.refresh_from_db()
    assert job.status == RealignmentJob.Status.DONE and job.processed == 1
    assert job.runs == 2 and job.heartbeat_at is None


def test_a_job_whose_worker_keeps_dying_is_failed_with_the_reason(plan, admin_user, test_providers,
                                                                  django_capture_on_commit_callbacks, settings):
    from datetime import timedelta

    from django.utils import timezone

    from salesapp.jobs import jobs_watchdog

    make_account("SF Tech", country="US", state="CA", industry="technology", territory=plan["na"])
    job = _run(lambda: realignment.realignment_preview_start(actor=admin_user, model=plan["na"].model),
               django_capture_on_commit_callbacks)
    RealignmentJob.objects.filter(pk=job.pk).update(
        status=RealignmentJob.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5),
        runs=settings.JOB_MAX_RUNS, applied_by=admin_user, started_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_watchdog()["failed"] == 1
    job.refresh_from_db()
    assert job.status == RealignmentJob.Status.FAILED
    assert f"stopped {settings.JOB_MAX_RUNS} times" in job.error
    # And the planner can resume it from its checkpoint
    job = _run(lambda: realignment.realignment_apply(actor=admin_user, job=job), django_capture_on_commit_callbacks)
    assert job.status == RealignmentJob.Status.DONE and job.processed == 1
