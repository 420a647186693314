"""Benchmark: what the access rule costs a page, per domain model, as a rep and as a manager (run on demand).

Needs PostgreSQL seeded at scale (see README "Benchmarks"), e.g.:

    createdb sales_bench_check
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_bench_check
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py shell -c "from tests.bench.seed import seed; seed(leads=200000)"
    .venv/bin/python tests/bench/access_rule.py [--runs 15] [--without-parent-access]

It times, in process, the first page of 50 of each model through `Model.objects.restrict(user)` and one
record's detail lookup (the newest account), and prints p50/p95 per row. `--without-parent-access` drops the
implicit parent grants (a deal's or lead's readers read its account) to show what they cost.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from activities.models import Activity  # noqa: E402
from leads.models import Lead  # noqa: E402
from opportunities.models import Account, Contact, Opportunity  # noqa: E402
from salesapp import access  # noqa: E402
from salesapp.models import User  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--without-parent-access", action="store_true")
    args = parser.parse_args()
    if args.without_parent_access:
        access._parents.clear()
    newest_account = Account.objects.order_by("-id").values_list("id", flat=True).first()
    people = [User.objects.filter(role=role, is_active=True).order_by("id")[1] for role in ("sales_rep", "sales_manager")]
    rows = {
        "accounts page": lambda u: list(Account.objects.restrict(u).order_by("id")[:50].values("id")),
        "account detail": lambda u: Account.objects.restrict(u).filter(pk=newest_account).exists(),
        "contacts page": lambda u: list(Contact.objects.restrict(u).order_by("id")[:50].values("id")),
        "leads page (status=new)": lambda u: list(Lead.objects.restrict(u).filter(status="new")
                                                  .order_by("-created_at")[:50].values("id")),
        "opportunities page": lambda u: list(Opportunity.objects.restrict(u).order_by("id")[:50].values("id")),
        "activities page": lambda u: list(Activity.objects.restrict(u).order_by("-occurred_at")[:50].values("id")),
    }
    print(f"leads {Lead.objects.count():,}, opportunities {Opportunity.objects.count():,}, "
          f"accounts {Account.objects.count():,}; parent access {'off' if args.without_parent_access else 'on'}")
    print("| row | role | p50 ms | p95 ms |\n|---|---|---|---|")
    for label, fn in rows.items():
        for user in people:
            p50, p95 = timed(lambda fn=fn, user=user: fn(user), args.runs)
            print(f"| {label} | {user.role} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
