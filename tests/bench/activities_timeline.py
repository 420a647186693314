"""Benchmark: the first page of an account's timeline with 10,000 activities, on both stores.

Run on demand (not part of the test suite):

    .venv/bin/python tests/bench/activities_timeline.py            # SQLite in a temp dir + nx-27017
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_bench .venv/bin/python tests/bench/activities_timeline.py
    TEST_MONGODB_URI=mongodb://127.0.0.1:27017/ .venv/bin/python tests/bench/activities_timeline.py   # a real MongoDB

It loads 10,000 activities on one account (calls on its deals, emails, tasks)
and 20,000 on other accounts, then times `activities.timeline.timeline()`
(access check, store query, visibility of the page, actor names) for an
admin and for the owning rep, plus the bare store query, and prints median
and 95th percentile milliseconds. On SQL that is an index range scan on
(account_id, occurred_at desc, id desc); on MongoDB the same compound index.
nx-27017 is SQLite behind a wire protocol and scans without using it, so its
numbers say nothing about a real MongoDB.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["SALES_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-activities-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

TARGET, OTHERS, RUNS = 10_000, 20_000, 200


def _docs(account_ids, deals, owner_id, n, start):
    docs = []
    types = ("call", "email", "email", "meeting", "task")
    for i in range(n):
        when = start + timedelta(minutes=7 * i)
        kind = types[i % len(types)]
        account_id = account_ids[i % len(account_ids)]
        deal = deals.get(account_id, [None])[i % 3 if deals.get(account_id) else 0]
        docs.append({
            "type": kind, "subject": f"{kind} {i}", "description": "", "lead_id": None, "opportunity_id": deal,
            "account_id": account_id, "contact_id": None, "user_id": owner_id, "created_by_id": owner_id,
            "outcome": "", "duration_minutes": 15, "scheduled_at": when if kind == "meeting" else None,
            "completed_at": None if kind == "task" else when, "due_at": when if kind == "task" else None,
            "occurred_at": when, "participants": [], "metadata": {}, "created_at": when, "updated_at": when,
        })
    return docs


def _time(fn, runs=RUNS):
    fn()  # warm up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(label, runs=RUNS):
    from activities import timeline
    from activities.store import get_store
    from opportunities.models import Account, Opportunity, Stage
    from salesapp.models import User

    store = get_store()
    store.clear()
    admin = User.objects.filter(role="admin").first() or User.objects.create(email="bench-admin@x.example", role="admin")
    rep = User.objects.filter(email="bench-rep@x.example").first() or User.objects.create(email="bench-rep@x.example", role="sales_rep")
    stage = Stage.objects.order_by("order").first() or Stage.objects.create(key="prospecting", label="Prospecting", order=1, default_probability=10)
    account = Account.objects.create(name="Bench account", owner=rep)
    others = [Account.objects.create(name=f"Other {i}", owner=admin).pk for i in range(20)]
    deals = {account.pk: [Opportunity.objects.create(name=f"Deal {i}", account=account, owner=rep, stage=stage).pk for i in range(3)]}
    start = datetime(2024, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    for chunk in range(0, TARGET, 2000):
        store.insert_many(_docs([account.pk], deals, rep.pk, 2000, start + timedelta(minutes=7 * chunk)))
    for chunk in range(0, OTHERS, 2000):
        store.insert_many(_docs(others, {}, admin.pk, 2000, start + timedelta(minutes=3 * chunk)))
    load_s = time.perf_counter() - t
    assert store.count(("eq", "account_id", account.pk)) == TARGET

    def page(user):
        return timeline.timeline(user=user, kind="account", record_id=account.pk, limit=50)

    assert len(page(admin).entries) == 50 and len(page(rep).entries) == 50
    print(f"\n{label}: {TARGET} activities on the account, {OTHERS} elsewhere (loaded in {load_s:.1f} s, {runs} runs each)",
          flush=True)
    second = page(rep).next_cursor
    for name, fn in (
        ("store query, 51 newest", lambda: store.find(("eq", "account_id", account.pk), limit=51)),
        ("timeline page 1, admin", lambda: page(admin)),
        ("timeline page 1, owning rep", lambda: page(rep)),
        ("timeline page 2, owning rep",
         lambda: timeline.timeline(user=rep, kind="account", record_id=account.pk, limit=50, cursor=second)),
    ):
        median, p95 = _time(fn, runs)
        print(f"  {name:<32} median {median:7.2f} ms   p95 {p95:7.2f} ms", flush=True)
    store.clear()


def main():
    call_command("migrate", verbosity=0)
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    settings.MONGODB_URI = ""
    run(f"SQL store ({db})")
    sys.path.insert(0, str(ROOT / "tests" / "activities"))
    import nxserver

    from activities.store import forget_stores

    uri, proc = os.environ.get("TEST_MONGODB_URI"), None
    if not uri:
        proc, uri, reason = nxserver.start()
        if proc is None:
            print(f"\nMongoDB store: skipped ({reason})")
            return
    try:
        settings.MONGODB_URI = uri
        settings.MONGODB_DATABASE = "bench_activities"
        forget_stores()
        run("MongoDB store (" + ("nx-27017, SQLite behind the wire protocol" if proc else uri) + ")",
            runs=20 if proc else RUNS)
    finally:
        forget_stores()
        nxserver.stop(proc)


if __name__ == "__main__":
    main()
