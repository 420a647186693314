"""Benchmark: list pages on a seeded PostgreSQL (run on demand, after tests/bench/seed.py).

    DATABASE_URL=postgres://... .venv/bin/python tests/bench/list_pages.py [--runs 20]

As an admin (sees every row) and as a rep, it opens the leads, deals, contacts and accounts list pages with
their default view and sorted by a column both ways, through Django's test client, and prints per page:
the p50 time in ms, the queries it ran, the count shown (and whether it is an estimate) and, beside it, what
an exact COUNT(*) of the same rows costs.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from salesapp.models import User  # noqa: E402

PAGES = [
    ("/leads/", ""), ("/leads/", "ordering=last_name"), ("/leads/", "ordering=-last_name"),
    ("/opportunities/", ""), ("/opportunities/", "ordering=amount"), ("/opportunities/", "ordering=-amount"),
    ("/contacts/", ""), ("/accounts/", "ordering=-annual_revenue"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    setup_test_environment()  # the test client then keeps each response's template context
    for role in ("admin", "sales_rep"):
        user = User.objects.filter(role=role, is_active=True).order_by("id").first()
        client = Client()
        client.force_login(user)
        print(f"as {role} {user.email}")
        for path, query in PAGES:
            url = f"{path}?{query}" if query else path
            client.get(url)  # warm
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            page = response.context["list"]
            rows = page.rows[0].__class__.objects.restrict(user, "view") if page.rows else None
            exact_ms = ""
            if rows is not None:
                start = time.perf_counter()
                exact = rows.count()
                exact_ms = f"COUNT(*) of all visible: {exact:,} in {(time.perf_counter() - start) * 1000:.0f} ms"
            shown = f"{'about ' if page.count.estimated else ''}{page.count.value:,}"
            print(f"  {url:40} {statistics.median(times):7.1f} ms  {len(queries):2} queries  shows {shown:>14}  "
                  f"{exact_ms}")


if __name__ == "__main__":
    main()
