"""The compiled index agrees with a plain rule-by-rule evaluation on random plans and records."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from territories.engine import TerritoryIndex, normalize_record, rule_checks


def random_plan(rng: random.Random, n: int) -> list[dict]:
    rows = []
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        row = {"id": i, "name": f"T{i}", "priority": rng.randint(0, 2),
               "created_at": base + timedelta(days=rng.randint(0, 3)),
               "parent_id": rng.choice([None, None, *range(1, i)]) if i > 1 else None}
        if rng.random() < 0.4:
            row["countries"] = rng.sample(["US", "CA", "DE"], rng.randint(1, 2))
        if rng.random() < 0.3:
            row["states"] = rng.sample(["CA", "WA", "NY"], rng.randint(1, 2))
        if rng.random() < 0.3:
            row["industry"] = rng.choice(["technology", "Retail"])
        if rng.random() < 0.3:
            row["zip_codes"] = rng.sample(["941*", "94100-94149", "10001", "9*", "94150-94199"], rng.randint(1, 2))
        if rng.random() < 0.25:
            lo = rng.choice([None, 10, 100])
            row["min_employee_count"], row["max_employee_count"] = lo, rng.choice([None, 50, 500])
            if lo is not None and row["max_employee_count"] is not None and row["max_employee_count"] < lo:
                row["max_employee_count"] = None
        if rng.random() < 0.2:
            row["min_annual_revenue"] = rng.choice([None, 1000])
        rows.append(row)
    return rows


def random_record(rng: random.Random) -> dict:
    return {
        "country": rng.choice([None, "US", "ca", "DE", "FR"]),
        "state": rng.choice([None, "CA", "wa", "NY"]),
        "industry": rng.choice([None, "Technology", "retail", "banking"]),
        "postal_code": rng.choice([None, "94107", "94160", "10001", "90210", "94107-1234"]),
        "employee_count": rng.choice([None, 5, 10, 50, 100, 500, 5000]),
        "annual_revenue": rng.choice([None, 999, 1000, 10**6]),
    }


def reference_winner(index: TerritoryIndex, record: dict) -> int | None:
    rec = normalize_record(record)
    own = {t.id for t in index.entries if all(r["matched"] for r in rule_checks(t, rec))}
    effective = [t for t in index.entries if t.id in own and all(a in own for a in t.chain)]
    return min(effective, key=lambda t: t.sort_key()).id if effective else None


@pytest.mark.parametrize("seed", range(12))
def test_index_matches_reference(seed):
    rng = random.Random(seed)
    index = TerritoryIndex(random_plan(rng, rng.randint(5, 40)))
    for _ in range(300):
        record = random_record(rng)
        expected = reference_winner(index, record)
        assert index.match_id(record) == expected, record
        winner, explanation, _ = index.explain(record)
        assert (winner.id if winner else None) == expected
        assert [c["territory_id"] for c in explanation if c["outcome"].startswith("won")] == (
            [expected] if expected else [])
