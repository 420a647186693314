"""Benchmark: many clients moving deals' stages at once against gunicorn on PostgreSQL: errors, deadlocks, speed.

Each client is a thread with its own keep-alive HTTP connection and a JWT, sending
`PATCH /api/v1/opportunities/<id>/ {"stage": ...}` for a fixed time: every other move goes to one of a few
hot deals that all clients share (the same rows), the rest to the client's own deals. Any non-2xx answer
is an error. Deadlocks are PostgreSQL's own count for the database (`pg_stat_database.deadlocks`) over
the run, so a deadlock that a retry hid would still show.

    .venv/bin/python tests/bench/stage_moves.py [--clients 16] [--seconds 60] [--workers 2] [--hot 8]

It creates (once) and migrates its own database, BENCH_STAGE_DB (default sales_bench_stage_moves) on
BENCH_PG, and uses Redis at BENCH_REDIS_URL. gunicorn runs the production settings with sync workers;
without CELERY_BROKER_URL in the environment tasks run eagerly, so each move's consumers (rescoring,
advice) run in the request after its commit and contend too; with it they go to the broker (start a
worker). Prints the figures and writes them to tests/bench/results/stage_moves.json.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_STAGE_DB", "sales_bench_stage_moves")
DATABASE_URL = f"{PG}/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PORT = int(os.environ.get("BENCH_STAGE_PORT", "8791"))
STAGES = ["discovery", "qualification", "proposal", "negotiation"]
OWN_DEALS = 4  # per client

os.environ.update(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX="bench-stage",
                  DJANGO_SETTINGS_MODULE="salesapp.settings", LOG_LEVEL="WARNING")

from tests.bench.run_bench import PROD_ENV, Server, psql, run  # noqa: E402


def prepare(clients: int, hot: int) -> tuple[str, list[int], list[list[int]]]:
    """A manager, four reps and their deals (made once, by the services); the manager's token."""
    import django

    os.environ["DJANGO_SECRET_KEY"] = PROD_ENV["DJANGO_SECRET_KEY"]  # the server must accept the token signed here
    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    from opportunities.models import Opportunity
    from opportunities.services import accounts, deals
    from salesapp import services
    from salesapp.models import User

    manager = User.objects.filter(email="bench.moves.manager@bench.example").first() or services.user_create(
        email="bench.moves.manager@bench.example", password="bench-pass-123", role="sales_manager")
    reps = [User.objects.filter(email=f"bench.moves.rep{i}@bench.example").first() or services.user_create(
        email=f"bench.moves.rep{i}@bench.example", password="bench-pass-123", role="sales_rep", manager=manager)
        for i in range(4)]
    wanted = hot + clients * OWN_DEALS
    have = list(Opportunity.objects.filter(owner__in=reps).order_by("pk").values_list("pk", flat=True))
    for i in range(len(have), wanted):
        rep = reps[i % 4]
        account = accounts.account_create(actor=rep, name=f"Bench moves {i}", owner=rep)
        have.append(deals.opportunity_create(actor=rep, account=account, name=f"Bench move {i}", owner=rep,
                                             amount=1000 + i).pk)
    own = [have[hot + c * OWN_DEALS: hot + (c + 1) * OWN_DEALS] for c in range(clients)]
    return str(AccessToken.for_user(manager)), have[:hot], own


def deadlocks() -> int:
    return int(psql(f"SELECT deadlocks FROM pg_stat_database WHERE datname = '{DB_NAME}'"))


def client_run(token, shared, own, *, seed, until, results):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Host": "127.0.0.1"}
    i = 0
    while time.monotonic() < until:
        deal = rng.choice(shared) if i % 2 == 0 else rng.choice(own)
        body = json.dumps({"stage": rng.choice(STAGES)})
        start = time.perf_counter()
        try:
            conn.request("PATCH", f"/api/v1/opportunities/{deal}/", body=body, headers=headers)
            response = conn.getresponse()
            text = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status, text = "conn", repr(exc).encode()
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        results.append((time.perf_counter() - start, status, text[:200] if status != 200 else b""))
        i += 1
    conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--hot", type=int, default=8, help="deals every client moves")
    args = parser.parse_args()

    if psql(f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'") != "1":
        psql(f"CREATE DATABASE {DB_NAME}")
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env={**os.environ, "PYTHONPATH": str(ROOT)})
    token, shared, own = prepare(args.clients, args.hot)

    server_env = {**PROD_ENV, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": "bench-stage",
                  "LOG_LEVEL": "WARNING"}
    if os.environ.get("CELERY_BROKER_URL"):
        server_env["CELERY_BROKER_URL"] = os.environ["CELERY_BROKER_URL"]
    server = Server("salesapp.wsgi:application", PORT, server_env, workers=args.workers)
    try:
        before = deadlocks()
        results: list = []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client_run, args=(token, shared, own[c]),
                                    kwargs={"seed": c, "until": until, "results": results})
                   for c in range(args.clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        found = deadlocks() - before
    finally:
        server.stop()

    times = sorted(r[0] * 1000 for r in results)
    errors = [r for r in results if r[1] != 200]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "configuration": {"clients": args.clients, "seconds": args.seconds, "gunicorn_sync_workers": args.workers,
                          "hot_deals": len(shared), "own_deals_per_client": OWN_DEALS,
                          "tasks": "broker" if "CELERY_BROKER_URL" in server_env else "eager (in the request)",
                          "database": "PostgreSQL", "cache": "Redis", "settings": "production"},
        "moves": len(results),
        "moves_per_second": round(len(results) / elapsed, 1),
        "errors": len(errors),
        "error_samples": sorted({f"{r[1]} {r[2].decode(errors='replace')}" for r in errors})[:5],
        "deadlocks": found,
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1) if times else None,
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 1) if times else None,
        "max_ms": round(times[-1], 1) if times else None,
    }
    out = ROOT / "tests" / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stage_moves.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 1 if errors or found else 0


if __name__ == "__main__":
    sys.exit(main())
