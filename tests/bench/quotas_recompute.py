"""Benchmark: recompute every quota for 500 reps x 4 quarters against 250,000 opportunities; read one attainment.

Run on demand (not part of the test suite):

    .venv/bin/python tests/bench/quotas_recompute.py                 # SQLite in a temp dir
    BENCH_PG=postgres://postgres@127.0.0.1:5432 .venv/bin/python tests/bench/quotas_recompute.py
        # PostgreSQL: (re)creates the database sales_quotas_bench there and drops nothing else

Data: one VP, 25 managers of 20 reps each (500 reps), 500 accounts, 250,000
opportunities spread over 2026 (about 40% closed won, with close dates), and a
revenue quota for every person for each quarter of 2026 (2,104 quotas), sized so
that about a third of the reps attain.

Timed:
- the full recompute (`quotas.attainment.quotas_recompute()`), first when every
  figure changes (cold), then when none does (steady state, what the hourly job does);
- the work of one `opportunity.won` consumer (find the quotas it moves, re-measure them);
- reading one rep's attainment (`quotas.selectors.quota_attainment`) from the cache and
  with an empty cache.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
PG = os.environ.get("BENCH_PG", "")
if PG:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", "DROP DATABASE IF EXISTS sales_quotas_bench"], check=True)
    subprocess.run(["psql", f"{PG}/postgres", "-qc", "CREATE DATABASE sales_quotas_bench"], check=True)
    os.environ["DATABASE_URL"] = f"{PG}/sales_quotas_bench"
else:
    os.environ.pop("DATABASE_URL", None)
    os.environ["SALES_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-quotas-")
if os.environ.get("BENCH_REDIS"):  # e.g. redis://127.0.0.1:6379/6 to read attainment through Redis
    os.environ["REDIS_URL"] = os.environ["BENCH_REDIS"]
else:
    os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

MANAGERS, REPS_PER_MANAGER, OPPORTUNITIES = 25, 20, 250_000
QUARTERS = ["Q1_2026", "Q2_2026", "Q3_2026", "Q4_2026"]


def _time(fn, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def load():
    from opportunities.models import Account, Opportunity
    from quotas.models import Quota
    from salesapp.models import User
    from salesapp.periods import parse_period

    rng = random.Random(7)
    vp = User.objects.create(email="vp@bench.example", role="sales_manager", first_name="Vera", last_name="VP")
    managers = User.objects.bulk_create([
        User(email=f"m{i}@bench.example", role="sales_manager", manager=vp, first_name=f"M{i}")
        for i in range(MANAGERS)])
    reps = User.objects.bulk_create([
        User(email=f"r{m}-{j}@bench.example", role="sales_rep", manager=manager, first_name=f"R{m}-{j}")
        for m, manager in enumerate(managers) for j in range(REPS_PER_MANAGER)])
    accounts = Account.objects.bulk_create([Account(name=f"Account {i}", owner=rep) for i, rep in enumerate(reps)])
    start = date(2026, 1, 1)
    stages = ["closed_won"] * 4 + ["closed_lost"] * 2 + ["discovery", "proposal", "negotiation", "qualification"]
    batch = []
    for i in range(OPPORTUNITIES):
        rep_index = rng.randrange(len(reps))
        stage = stages[rng.randrange(len(stages))]
        closed = stage.startswith("closed")
        batch.append(Opportunity(
            name=f"Deal {i}", account_id=accounts[rep_index].pk, owner_id=reps[rep_index].pk, stage_id=stage,
            amount=Decimal(rng.randrange(1_000, 200_000)),
            actual_close_date=start + timedelta(days=rng.randrange(365)) if closed else None,
        ))
        if len(batch) == 10_000:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)
    quotas = []
    for key in QUARTERS:
        window = parse_period(key)
        for user in [vp, *managers, *reps]:
            # about 5M is won per rep and quarter: reps get 4-7M, so about a third attain
            if user is vp:
                amount = Decimal(2_800_000_000)
            elif user.manager_id == vp.pk:
                amount = Decimal(110_000_000)
            else:
                amount = Decimal(rng.randrange(4_000_000, 7_000_000))
            quotas.append(Quota(user=user, period=key, period_kind=window.kind, start_date=window.start,
                                end_date=window.end, quota_type="revenue", quota_amount=amount, status="published"))
    Quota.objects.bulk_create(quotas)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return vp, reps


def main():
    from quotas import attainment, selectors
    from quotas.models import Quota

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    vp, reps = load()
    print(f"{connection.vendor}: loaded {Quota.objects.count()} quotas, {OPPORTUNITIES:,} opportunities, "
          f"{len(reps)} reps in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    with transaction.atomic():
        cold = attainment.quotas_recompute()
        committing = time.perf_counter()
    done = time.perf_counter()
    print(f"full recompute, every figure changes : {(committing - started) * 1000:7.0f} ms to measure and write "
          f"{cold['changed']} of {cold['quotas']} quotas and publish {len(cold['attained'])} quota.attained, "
          f"then {(done - committing) * 1000:.0f} ms relaying those events after commit (in process)")
    median, p95 = _time(attainment.quotas_recompute, 7)
    print(f"full recompute, steady state         : {median:7.0f} ms median, {p95:.0f} ms p95 (7 runs)")
    started = time.perf_counter()
    call_command("recompute_quotas", stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"manage.py recompute_quotas           : {(time.perf_counter() - started) * 1000:7.0f} ms")

    rep = reps[123]
    payload = {"owner_id": rep.pk, "territory_id": None, "actual_close_date": "2026-05-05"}

    def one_event():
        moved = attainment.quotas_for_deal(payload)
        attainment.quotas_recompute(quota_ids=[q.pk for q in moved])

    median, p95 = _time(one_event, 50)
    print(f"one opportunity.won consumer         : {median:7.1f} ms median, {p95:.1f} ms p95 (3 quotas)")

    def read():
        return selectors.quota_attainment(user=rep, user_id=rep.pk, period="Q2_2026")

    read()
    median, p95 = _time(read, 500)
    print(f"read one attainment, cached          : {median:7.2f} ms median, {p95:.2f} ms p95")

    def read_cold():
        cache.delete(attainment.cache_key(rep.pk, "Q2_2026"))
        return read()

    median, p95 = _time(read_cold, 300)
    print(f"read one attainment, cache empty     : {median:7.2f} ms median, {p95:.2f} ms p95")
    figures = read()["quotas"][0]
    print(f"  (rep {rep.pk} Q2_2026: {figures['attainment_amount']} of {figures['quota_amount']}, "
          f"{figures['attainment_percentage']}%)")


if __name__ == "__main__":
    main()
