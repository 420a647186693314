"""Delivery benchmark: commit-to-apply latency under a steady write load, through real workers.

Runs the production set-up of `make worker` and `make beat` (one worker per queue, beat for the sweeper,
reconciler, watchdog and rescore flush) against PostgreSQL, Redis and RabbitMQ, writes at a steady rate
through the services (a lead captured, then a call logged on it: the lead, quota and rescoring consumers all
listen), waits until every event is applied, and reports commit-to-apply p50/p95/max: from the outbox row's
commit to the moment its last consumer applied it (the row's `applied_at`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_bench REDIS_URL=redis://127.0.0.1:6379/7 \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \\
    .venv/bin/python tests/bench/delivery.py --rate 13.5 --seconds 60

The database is migrated and its outbox emptied first; the results go to tests/bench/results/.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from activities.services import activity_log  # noqa: E402
from leads.services import lead_create  # noqa: E402
from salesapp.celery import app as celery_app  # noqa: E402
from salesapp.models import ConsumerFailure, OutboxEvent, User  # noqa: E402
from salesapp.roles import Role  # noqa: E402
from salesapp.services import user_create  # noqa: E402

CELERY = [sys.executable, "-m", "celery", "-A", "salesapp"]
WORKERS = [  # as `make worker`
    ["worker", "-Q", "events", "-c", "2", "-n", "bench-events@%h"],
    ["worker", "-Q", "rescoring,periodic", "-c", "1", "-n", "bench-rescoring@%h"],
    ["worker", "-Q", "jobs", "-c", "1", "-n", "bench-jobs@%h"],
    ["beat", "-s", str(ROOT / "var" / "bench-celerybeat-schedule")],
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def start_workers() -> list[subprocess.Popen]:
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([*CELERY, *args, "-l", "warning"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for args in WORKERS]
    time.sleep(8)  # workers connected and children forked
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=30)


def users() -> list[User]:
    manager = User.objects.filter(email="bench-manager@delivery.example").first() or user_create(
        email="bench-manager@delivery.example", password="bench-pass-123", role=Role.SALES_MANAGER)
    return [User.objects.filter(email=f"bench-rep{i}@delivery.example").first() or user_create(
        email=f"bench-rep{i}@delivery.example", password="bench-pass-123", role=Role.SALES_REP, manager=manager)
        for i in range(10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=13.5, help="writes per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if not (settings.IS_POSTGRES and settings.CELERY_BROKER_URL):
        sys.exit("set DATABASE_URL (PostgreSQL), REDIS_URL and CELERY_BROKER_URL")
    celery_app.conf.task_always_eager = False
    call_command("migrate", verbosity=0)
    reps = users()
    started = timezone.now()
    procs = start_workers()
    try:
        total = int(args.rate * args.seconds)
        t0 = time.monotonic()
        for i in range(total):
            rep = reps[(i // 2) % len(reps)]  # the rep who captured the lead logs the call on it
            if i % 2 == 0:
                lead = lead_create(actor=rep, first_name=f"Bench{i}", last_name="Load", company=f"Load Co {i}",
                                   email=f"bench{i}.{int(t0)}@load{i % 50}.example")
            else:
                activity_log(actor=rep, type="call", subject="Follow-up call", lead_id=lead.pk)
            ahead = t0 + (i + 1) / args.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        wrote = time.monotonic() - t0
        ours = OutboxEvent.objects.filter(created_at__gte=started)
        deadline = time.monotonic() + 300
        while ours.filter(applied_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        stop_workers(procs)
    rows = list(ours.exclude(applied_at__isnull=True).values_list("name", "created_at", "applied_at", "sent_at"))
    lag = [(applied - created).total_seconds() for _, created, applied, _ in rows]
    # Events some consumer applied; those nobody consumes are marked sent and applied in one statement.
    listened = [(applied - created).total_seconds() for _, created, applied, sent in rows if applied != sent]
    result = {
        "configuration": {
            "database": connection.vendor, "broker": "rabbitmq", "workers": [" ".join(w) for w in WORKERS],
            "tasks_in_worker": True, "rate_per_s": args.rate, "seconds": args.seconds,
        },
        "writes": total, "write_seconds": round(wrote, 1), "events": ours.count(),
        "unapplied": ours.filter(applied_at__isnull=True).count(),
        "consumer_failures": ConsumerFailure.objects.filter(event__created_at__gte=started).count(),
        "commit_to_apply_s": {"p50": round(percentile(listened, 50), 3), "p95": round(percentile(listened, 95), 3),
                              "max": round(max(listened, default=0), 3), "events": len(listened)},
        "all_events_s": {"p50": round(percentile(lag, 50), 3), "p95": round(percentile(lag, 95), 3)},
    }
    out = ROOT / "tests" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"delivery-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
