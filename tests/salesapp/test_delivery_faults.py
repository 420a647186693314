"""Delivery through a real Celery worker on RabbitMQ and PostgreSQL, with faults injected.

Each test starts its own worker process (`celery -A tests.fault_worker worker`, prefork) against the test
database, through a TCP proxy the test owns where it cuts the database (tests/faults.py). The worker runs the
project's consumers plus a probe that counts its applications, so "lost" and "applied twice" are both visible:
every (event, consumer) pair must hold exactly one receipt and the probe exactly one row per event.

Needs PostgreSQL and RabbitMQ (CI's first pass); skipped on the embedded default, which has no worker.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from kombu import Connection, Queue

from salesapp import events
from salesapp.jobs import jobs_watchdog
from salesapp.models import AppliedEvent, ImportJob, OutboxEvent
from tests import fault_worker
from tests.faults import TcpProxy

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not (settings.CELERY_BROKER_URL and settings.IS_POSTGRES),
                       reason="needs PostgreSQL and RabbitMQ (DATABASE_URL and CELERY_BROKER_URL)"),
]

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("events", "rescoring", "jobs", "periodic")
WORKER_APP = "fault_worker"  # the workers' PostgreSQL application_name


def _purge_queues() -> None:
    with Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        for name in QUEUES:
            queue = Queue(name).bind(channel)
            queue.declare()
            queue.purge()


class Worker:
    """A real `celery worker` subprocess on the test database (through `db_port` when given)."""

    def __init__(self, *, queues: str, db_port: int | None = None, concurrency: int = 2, **env):
        db = connection.settings_dict
        port = db_port or int(db.get("PORT") or 5432)
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}?application_name={WORKER_APP}",
            "DB_CONN_MAX_AGE": "60",
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            "FAULT_WORKER": "1",
            **{k: str(v) for k, v in env.items()},
        }
        self.args = [sys.executable, "-m", "celery", "-A", "tests.fault_worker", "worker", "-Q", queues,
                     "-c", str(concurrency), "--pool", "prefork", "-l", "warning", "--without-gossip",
                     "--without-mingle", "-n", f"fault-{os.getpid()}-{time.monotonic_ns()}@%h"]
        self.proc = None

    def start(self) -> "Worker":
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.children():
                time.sleep(1.0)  # children forked: give them a moment to take the queue
                return self
            time.sleep(0.2)
        raise RuntimeError("the worker did not start")

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], check=False, capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and children), as a crashed machine would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    stop = kill


@pytest.fixture
def probe_table(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS probe_applied")
        cursor.execute("CREATE TABLE probe_applied (event_id uuid NOT NULL, consumer text NOT NULL)")
    _purge_queues()
    fault_worker.register()  # the test process knows the probe, so it expects it among the consumers
    yield
    for name in fault_worker.PROBE_EVENTS:
        events._consumers[name] = [c for c in events._consumers[name] if c[0] != "probe.applied"]
    _purge_queues()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS probe_applied")
        # Sessions of killed workers end when the server notices; end them now so the test database can go
        # (only the workers': the test process's other threads keep theirs).
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name = %s", [WORKER_APP])


@pytest.fixture
def db_proxy():
    db = connection.settings_dict
    proxy = TcpProxy(f"postgres://{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}", 5432).start()
    yield proxy
    proxy.stop()


def _write(i: int) -> str:
    """One committed change with its event: a quota changed, or a call logged (real consumers listen to both)."""
    with transaction.atomic():
        if i % 2:
            event = events.publish("quota.updated", {"quota_id": i})
        else:
            event = events.publish("activity.logged", {
                "activity_id": i, "type": "call", "lead_id": None, "opportunity_id": None, "account_id": None,
                "user_id": None, "occurred_at": "2026-12-01T10:00:00+00:00", "completed_at": None})
    return str(event.id)


def _settle(ids: list[str], timeout: float = 180) -> dict:
    """Wait until every (event, consumer) pair of `ids` holds a receipt, re-driving what never applied."""
    expected = {eid: set(events.consumer_keys(OutboxEvent.objects.get(pk=eid).name)) for eid in ids}
    deadline = time.monotonic() + timeout
    while True:
        receipts: dict[str, set] = {eid: set() for eid in ids}
        for event_id, key in AppliedEvent.objects.filter(event_id__in=ids).values_list("event_id", "consumer"):
            receipts[str(event_id)].add(key)
        missing = {eid: expected[eid] - receipts[eid] for eid in ids if expected[eid] - receipts[eid]}
        if not missing or time.monotonic() > deadline:
            break
        events.outbox_reconcile()
        time.sleep(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_id::text FROM probe_applied")
        probe = Counter(row[0] for row in cursor.fetchall())
    pairs = sum(len(v) for v in expected.values())
    return {
        "pairs": pairs,
        "lost": sum(len(v) for v in missing.values()),
        "probe_missing": sum(1 for eid in ids if probe[eid] == 0),
        "probe_twice": sum(1 for eid in ids if probe[eid] > 1),
    }


def test_database_cut_four_times_during_1000_writes_loses_and_doubles_nothing(probe_table, db_proxy, settings):
    settings.CONSUMER_RECONCILE_AFTER_SECONDS = 5
    worker = Worker(queues="events", db_port=db_proxy.port, PROBE_SLEEP="0.002").start()
    try:
        stop = threading.Event()

        def cutter():
            for _ in range(4):
                if stop.wait(1.5):
                    return
                db_proxy.stop()
                time.sleep(2)
                db_proxy.start()

        thread = threading.Thread(target=cutter, daemon=True)
        thread.start()
        ids = []
        for i in range(1000):
            ids.append(_write(i))
            time.sleep(0.01)
        thread.join()
        result = _settle(ids)
    finally:
        worker.stop()
    assert result["lost"] == 0, result
    assert result["probe_missing"] == 0 and result["probe_twice"] == 0, result
    assert OutboxEvent.objects.filter(pk__in=ids, applied_at__isnull=True).count() == 0


def test_five_sigkills_of_a_busy_worker_child_lose_nothing(probe_table, settings):
    settings.CONSUMER_RECONCILE_AFTER_SECONDS = 5
    worker = Worker(queues="events", PROBE_SLEEP="0.02").start()
    try:
        ids = [_write(i) for i in range(500)]
        kills = 0
        while kills < 5:
            time.sleep(0.8)
            children = worker.children()
            if children:
                os.kill(children[0], signal.SIGKILL)
                kills += 1
        result = _settle(ids)
    finally:
        worker.stop()
    assert kills == 5
    assert result["lost"] == 0 and result["probe_missing"] == 0 and result["probe_twice"] == 0, result


def test_an_import_whose_worker_is_killed_midway_is_resumed_and_writes_every_row_once(probe_table, admin_user,
                                                                                        settings):
    from leads.models import Lead
    from salesapp import imports

    settings.JOB_STALE_SECONDS = 5
    env = {"JOB_STALE_SECONDS": 5, "JOB_HEARTBEAT_SECONDS": 1}
    rows = 5000
    content = b"email,first_name,last_name,company\n" + b"".join(
        f"resume{i}@import{i % 97}.example,Ann{i},Lee,Import Co {i % 97}\n".encode() for i in range(rows))
    worker = Worker(queues="jobs", concurrency=1, **env).start()
    try:
        with transaction.atomic():
            job = imports.import_job_create(actor=admin_user, kind="leads", content=content, on_error="skip")
            imports.import_job_start(job)
        deadline = time.monotonic() + 900  # a loaded CI machine: the bound is for a hang, not for speed
        while ImportJob.objects.get(pk=job.pk).processed < 2000:
            assert time.monotonic() < deadline, "the import never reached 2,000 rows"
            time.sleep(0.2)
        worker.kill()  # at 2,000 rows
        assert ImportJob.objects.get(pk=job.pk).status == "running"
        # The restarted worker gets the unacknowledged message back; it takes the job once its heartbeat is stale,
        # or the watchdog (as beat runs it) sends the job again.
        worker = Worker(queues="jobs", concurrency=1, **env).start()
        while not ImportJob.objects.get(pk=job.pk).is_finished:
            assert time.monotonic() < deadline, "the resumed import never finished"
            jobs_watchdog()
            time.sleep(1)
    finally:
        worker.stop()
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.message
    assert job.created == rows and job.runs == 2
    assert Lead.objects.filter(last_name="Lee", company__startswith="Import Co").count() == rows
    assert len({lead.email for lead in Lead.objects.filter(last_name="Lee")}) == rows


def test_after_a_broker_outage_during_1000_writes_each_event_is_sent_once_and_drains_fast(probe_table,
                                                                                          proxied_broker, settings):
    outage = float(os.environ.get("FAULT_BROKER_OUTAGE_SECONDS", "10"))
    ids, cut_at = [], None
    started = time.monotonic()
    for i in range(1000):
        if i == 100:
            proxied_broker.stop()
            cut_at = time.monotonic()
        ids.append(_write(i))
        time.sleep(max(0.0, outage / 900))  # the outage spans the writes after the 100th
    proxied_broker.start()
    back = time.monotonic()
    assert back - cut_at >= outage * 0.9
    # Beat sweeps every `interval` seconds; the backlog must be gone within 30 s of the broker's return.
    interval = settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]["schedule"]
    swept = Counter()
    while OutboxEvent.objects.filter(pk__in=ids).exclude(status="sent").exists() and time.monotonic() - back < 30:
        swept.update(events.outbox_sweep())
        time.sleep(interval)
    drained = time.monotonic() - back
    pending = OutboxEvent.objects.filter(pk__in=ids).exclude(status="sent").count()
    assert pending == 0, swept
    assert drained < 30
    with Connection(settings.CELERY_BROKER_URL) as conn:
        queue = Queue("events").bind(conn.channel())
        sent = Counter()
        while (message := queue.get(no_ack=True)) is not None:
            sent[message.decode()[0][0]["id"]] += 1
    assert set(sent) == set(ids), "every event reached the broker"
    assert max(sent.values()) == 1, "and none twice"
    print(f"\nbroker outage {back - cut_at:.1f}s over {time.monotonic() - started:.1f}s of writes; "
          f"backlog of {swept['sent']} sent by the sweeper, drained within {drained:.1f}s")
