"""Benchmark: match one record against 1,000 active territories.

Run on demand (not part of the test suite):

    .venv/bin/python tests/bench/bench_territory_match.py            # embedded: temp SQLite, local-memory cache
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_bench_terr REDIS_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python tests/bench/bench_territory_match.py        # services: Redis adds the token check

Builds a three-level plan (10 regions x 9 states x 10 leaves by industry, zip
prefix and company size = 1,000 territories) in a fresh database, warms the
compiled index, then times 20,000 random records three ways: the engine's
fast path (winner id only), the engine with the full explanation, and the
public `territories.matching.territory_match` (cache token check +
explanation + a copy of the winning Territory).
"""

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["SALES_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-territories-")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from territories.matching import assignment_index, assignment_index_invalidate, territory_match  # noqa: E402
from territories.models import Territory, TerritoryModel  # noqa: E402

N_RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
INDUSTRIES = ["technology", "banking", "retail", "healthcare", "manufacturing"]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "JP", "AU", "BR", "IN", "MX"]


def build_plan() -> TerritoryModel:
    call_command("migrate", verbosity=0)
    model = TerritoryModel.objects.filter(state="active").first() or TerritoryModel.objects.create(
        name="bench", state="active")
    Territory.objects.filter(model=model).delete()
    rng = random.Random(7)
    made = 0
    for ci, country in enumerate(COUNTRIES):
        root = Territory.objects.create(model=model, name=f"{country} region", countries=[country], priority=ci)
        made += 1
        for si in range(9):
            state = Territory.objects.create(model=model, name=f"{country}-S{si}", parent=root, states=[f"S{si}"])
            made += 1
            leaves = []
            for li in range(10):
                kind = li % 3
                fields = {"industry": INDUSTRIES[li % 5]} if kind == 0 else (
                    {"zip_codes": [f"{si}{li}*", f"{si}{li}000-{si}{li}499"]} if kind == 1 else
                    {"min_employee_count": 100 * li, "max_employee_count": 100 * li + rng.randint(50, 500)})
                leaves.append(Territory(model=model, name=f"{country}-S{si}-L{li}", parent=state,
                                        priority=rng.randint(0, 5), **fields))
            Territory.objects.bulk_create(leaves)
            made += len(leaves)
    assert made == 1000, made
    return model


def records(n: int) -> list[dict]:
    rng = random.Random(11)
    return [{
        "country": rng.choice(COUNTRIES), "state": f"S{rng.randint(0, 9)}",
        "postal_code": f"{rng.randint(0, 9)}{rng.randint(0, 9)}{rng.randint(0, 999):03d}",
        "industry": rng.choice(INDUSTRIES + ["Technology", None]),
        "employee_count": rng.choice([None, rng.randint(1, 1500)]),
        "annual_revenue": rng.choice([None, rng.randint(10_000, 50_000_000)]),
    } for _ in range(n)]


def timed(fn, recs) -> list[float]:
    out = []
    for rec in recs:
        t0 = time.perf_counter_ns()
        fn(rec)
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    print(f"{name:<48} mean {statistics.fmean(samples):7.1f} µs   p50 {p(0.5):7.1f}   p95 {p(0.95):7.1f}"
          f"   p99 {p(0.99):7.1f}   max {samples[-1]:8.1f}")


def main() -> None:
    build_plan()
    assignment_index_invalidate()
    index = assignment_index()
    recs = records(N_RECORDS)
    matched = sum(1 for r in recs if index.match_id(r) is not None)
    print(f"{len(index)} active territories; {len(recs)} records, {matched} matched; "
          f"database {connection.vendor}; cache {os.environ.get('REDIS_URL') and 'redis' or 'local memory'}")
    for r in recs[:500]:  # warm up
        territory_match(r)
    report("engine: winner id only (match_id)", timed(index.match_id, recs))
    report("engine: winner + explanation (explain)", timed(index.explain, recs))
    with CaptureQueriesContext(connection) as queries:
        samples = timed(territory_match, recs)
    report("matching.territory_match (public API)", samples)
    print(f"SQL queries during {len(recs)} territory_match calls: {len(queries)}")


if __name__ == "__main__":
    main()
