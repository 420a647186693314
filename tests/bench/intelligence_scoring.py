"""Benchmark: deal scoring, one record and 100,000 in bulk.

Run on demand (not part of the test suite):

    .venv/bin/python tests/bench/intelligence_scoring.py               # temp SQLite, local-memory cache
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_bench_intel REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python tests/bench/intelligence_scoring.py
    BENCH_DEALS=20000 .venv/bin/python tests/bench/intelligence_scoring.py   # fewer open deals

It generates a 1,500-deal history (the known-signal generator), trains the
deal model on it, then bulk-inserts BENCH_DEALS open deals (default 100,000)
with a stage change and two activities each, and times:
  * the model alone: predict + per-feature contributions + reasons for one
    feature row, and for all rows at once (numpy, vectorised);
  * one record end to end (`compute_scores("deal", [id])`: its rows,
    history, activities, features, model, reasons);
  * the bulk refresh (`scores_refresh(kind="deal")`): load, features,
    model, then the batched writes through the opportunities service (deal score, model and reasons, audit,
    one opportunity.scored per changed deal),
    with each phase's share.
"""

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("SALES_DATA_DIR", tempfile.mkdtemp(prefix="bench-intel-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from activities.store import get_store  # noqa: E402
from intelligence import services  # noqa: E402
from intelligence.datasets import scoring_set  # noqa: E402
from intelligence.predictors import load  # noqa: E402
from opportunities.models import Account, Opportunity, StageHistory  # noqa: E402
from salesapp import services as kernel  # noqa: E402
from salesapp.models import User  # noqa: E402
from tests.intelligence.synthetic import generate_history  # noqa: E402

N = int(os.environ.get("BENCH_DEALS", "100000"))


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def setup():
    call_command("migrate", verbosity=0)
    reps = [User.objects.filter(email=f"bench{i}@intel.example").first() or kernel.user_create(
        email=f"bench{i}@intel.example", password="bench-pass-123", role="sales_rep") for i in range(5)]
    if not Opportunity.objects.filter(name__startswith="History deal").exists():
        print("generating a 1,500-deal history ...")
        generate_history(owners=reps, deals=1500, leads=0, seed=99)
    result, secs = timed(services.model_train, kind="deal")
    print(f"trained deal model in {secs:.1f}s: {result['compared']} -> {result['decision']}")
    if Opportunity.objects.filter(name__startswith="Bench open").count() < N:
        print(f"inserting {N:,} open deals with history ...")
        rng = random.Random(1)
        now = timezone.now()
        accounts = Account.objects.bulk_create([Account(name=f"Bench {i}", industry="Software",
                                                        employee_count=rng.randint(10, 5000)) for i in range(1000)])
        opps = Opportunity.objects.bulk_create([
            Opportunity(name=f"Bench open {i}", account=accounts[i % 1000], owner=reps[i % 5],
                        stage_id=rng.choice(["discovery", "qualification", "proposal", "negotiation"]),
                        amount=Decimal(rng.randint(1, 200) * 500), source=rng.choice(["web", "referral", "event"]),
                        expected_close_date=(now + timedelta(days=rng.randint(-20, 90))).date(),
                        created_at=now - timedelta(days=rng.randint(5, 200)),
                        next_step="Call back" if rng.random() < 0.5 else "")
            for i in range(N)], batch_size=5000)
        StageHistory.objects.bulk_create([
            StageHistory(opportunity=o, from_stage="discovery", to_stage=o.stage_id,
                         changed_at=now - timedelta(days=rng.randint(1, 60))) for o in opps], batch_size=5000)
        docs = []
        for o in opps:
            for _ in range(2):
                when = now - timedelta(days=rng.randint(0, 60))
                docs.append({"type": rng.choice(["call", "email", "meeting"]), "subject": "bench", "user_id": o.owner_id,
                             "opportunity_id": o.pk, "account_id": o.account_id, "occurred_at": when,
                             "completed_at": when, "created_at": when, "updated_at": when, "participants": [],
                             "metadata": {}, "description": "", "outcome": ""})
        get_store().insert_many(docs)


def main():
    setup()
    model = services.active_model("deal")
    pred = load(model)
    ds, t_load = timed(scoring_set, "deal")
    print(f"\nopen deals: {len(ds.ids):,}; active model {model.label}")
    print(f"load rows + history + activities + build features: {t_load:.2f}s")

    one = ds.vectors[:1]
    labels = ds.extra["history"].pipeline.labels
    pred.predict(one, stage_labels=labels)
    runs = []
    for _ in range(500):
        _r, s = timed(pred.predict, one, stage_labels=labels)
        runs.append(s * 1000)
    print(f"model only, one record (predict + contributions + reasons): median {statistics.median(runs):.3f} ms, "
          f"p95 {statistics.quantiles(runs, n=20)[18]:.3f} ms")
    (_p, _f), t_bulk = timed(pred.predict, ds.vectors, stage_labels=labels)
    print(f"model only, {len(ds.vectors):,} records: {t_bulk:.2f}s ({t_bulk / len(ds.vectors) * 1e6:.1f} µs/record)")

    ids = ds.ids[:: max(1, len(ds.ids) // 200)][:200]
    runs = []
    for rid in ids:
        _r, s = timed(services.compute_scores, "deal", [rid])
        runs.append(s * 1000)
    print(f"one record end to end (queries + features + model + reasons): median {statistics.median(runs):.2f} ms, "
          f"p95 {statistics.quantiles(runs, n=20)[18]:.2f} ms")

    n, t_all = timed(services.scores_refresh, kind="deal")
    print(f"bulk refresh of {n:,} deals end to end (load, features, model, batched writes, events): {t_all:.1f}s")


if __name__ == "__main__":
    main()
