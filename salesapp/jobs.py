"""Long jobs that outlive their worker: claim, heartbeat, watchdog.

A long job (an import, a realignment) is a row with a status, a heartbeat and
its own checkpoint. Apps register each kind once (`register_job_kind`).

- Its run function first claims the job (`job_claim`): only a job that waits
  for a worker, or runs without a heartbeat for JOB_STALE_SECONDS, can be
  taken, so two workers never run one job at once, and a redelivered message
  of a live job changes nothing.
- While it runs, `job_heartbeat` refreshes the heartbeat every
  JOB_HEARTBEAT_SECONDS from a thread of its own, so a long transaction does
  not look like a dead worker.
- The watchdog (beat, every JOB_WATCHDOG_SECONDS) sends a job whose worker
  died back to its run task, which resumes from the job's checkpoint; after
  JOB_MAX_RUNS takes it ends the job as failed with the reason, to be retried
  from the UI or the API. It also sends jobs queued while the broker was down
  that no worker ever took up.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from salesapp.events import TRANSIENT_ERRORS
from salesapp.metrics import JOBS_FAILED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobKind:
    """How the watchdog finds, resumes and ends one kind of job."""

    model: type[models.Model]
    waiting: tuple[str, ...]  # statuses of a job queued for a worker
    running: str  # the status while a worker runs it
    queued_field: str  # when the job was queued
    send: Callable[[int], None]  # queue the job's run task
    fail: Callable[[int, str], None]  # end a job that cannot be resumed, with the reason
    ready: Q = field(default_factory=Q)  # what else a waiting job must satisfy before the watchdog sends it
    # The model's fields counting work done and work in all (its progress), or None for a job of one step.
    progress: tuple[str, str] | None = ("processed", "total")


_kinds: dict[str, JobKind] = {}


def register_job_kind(name: str, kind: JobKind) -> None:
    """Put a kind of long job under the watchdog (from an AppConfig.ready)."""
    _kinds[name] = kind


def job_kinds() -> dict[str, JobKind]:
    return dict(_kinds)


def job_send(task, pk: int) -> None:
    """Queue a job's run task once the current transaction commits.

    If the broker cannot take it now, the job stays queued and the watchdog sends it when the broker is back.
    """

    def send():
        try:
            task.apply_async(args=[pk], retry=False)
        except TRANSIENT_ERRORS as exc:
            log.warning("job %s %s left to the watchdog: %s", task.name, pk, exc)

    transaction.on_commit(send)


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS)


def job_claim(name: str, pk: int) -> bool:
    """Take a job for this worker: it must wait for one, or run without a live heartbeat. Answer whether taken."""
    kind = _kinds[name]
    free = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before())
    taken = (kind.model.objects.filter(pk=pk).filter(Q(status__in=kind.waiting) | Q(status=kind.running))
             .filter(free)
             .update(status=kind.running, heartbeat_at=timezone.now(), runs=F("runs") + 1))
    return taken == 1


@contextmanager
def job_heartbeat(name: str, pk: int):
    """Keep the job's heartbeat fresh from a thread of its own while the block runs."""
    model = _kinds[name].model
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    model.objects.filter(pk=pk).update(heartbeat_at=timezone.now())
                except DatabaseError as exc:  # one missed beat; the next one, or the watchdog, tells
                    log.warning("heartbeat of %s %s missed: %s", name, pk, exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{name}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def jobs_watchdog() -> dict:
    """Resume jobs whose worker died, fail those that died too often, and send queued jobs nobody took."""
    now = timezone.now()
    resumed = failed = started = 0
    for name, kind in _kinds.items():
        dead = kind.model.objects.filter(status=kind.running, heartbeat_at__lt=_stale_before())
        for pk, runs in dead.values_list("pk", "runs"):
            if runs >= settings.JOB_MAX_RUNS:
                kind.fail(pk, f"the worker running it stopped {runs} times; retry it when the cause is fixed")
                JOBS_FAILED.labels(name).inc()
                failed += 1
            else:
                kind.send(pk)
                resumed += 1
        forgotten = kind.model.objects.filter(
            kind.ready, status__in=kind.waiting, heartbeat_at__isnull=True,
            **{f"{kind.queued_field}__lt": now - timedelta(seconds=settings.JOB_QUEUE_GRACE_SECONDS)})
        for pk in forgotten.values_list("pk", flat=True):
            kind.send(pk)
            started += 1
    if resumed or failed or started:
        log.warning("job watchdog: %s resumed, %s failed, %s started", resumed, failed, started)
    return {"resumed": resumed, "failed": failed, "started": started}
