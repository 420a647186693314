"""Benchmark: the first page of `GET /api/v1/leads/?status=new` (50 rows), run on demand.

Needs PostgreSQL filled at scale, e.g. one million leads:

    createdb sales_leads_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_leads_bench REDIS_URL=redis://127.0.0.1:6379/5
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_bench --leads 1000000 --activities 0 --opportunities 2000 --accounts 2000
    .venv/bin/python tests/bench/bench_leads_list.py [--requests 300]

It times the request in process through the whole Django stack (URL routing,
JWT authentication, throttle, permission, the access rule, filters, cursor
pagination, rendering) with the test client, as an admin and as a sales rep
(whose access rule adds the hierarchy, territory and share subqueries), and
reports p50/p95/p99, the query count per request and PostgreSQL's own
EXPLAIN ANALYZE time for the page query. No HTTP server or network sits in
between, so add a server's per-request overhead for end-to-end figures.
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
os.environ.setdefault("DJANGO_DEBUG", "false")  # as in production: no debug cursor, no query log
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from leads.models import Lead  # noqa: E402
from salesapp.models import User  # noqa: E402

URL = "/api/v1/leads/?status=new"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _literal(value) -> str:
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def measure(user, n: int, url: str = URL) -> dict:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_HOST="127.0.0.1")
    for _ in range(10):  # warm caches, connections, permission lookups
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
    sqls: list[str] = []

    def record(execute, sql, params, many, context):
        sqls.append(sql % tuple(_literal(p) for p in params)
                    if params else sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        body = client.get(url).json()
    timings = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    page_sql = next((q for q in sqls if "leads_lead" in q and "LIMIT" in q), "")
    explain_ms = None
    if page_sql:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + page_sql)
            plan = cursor.fetchone()[0]
            plan = plan[0] if isinstance(plan, list) else plan
            explain_ms = plan["Execution Time"]
    return {
        "user": f"{user.email} ({user.role})",
        "rows": len(body["results"]),
        "queries": len(sqls),
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
        "mean": statistics.mean(timings),
        "sql_ms": explain_ms,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--search", nargs="*", default=["smith", "Globex", "qqzzxx", "hana.777777@"],
                        help="also time /api/v1/leads/?q=WORD (common and rare words)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; figures mean little", file=sys.stderr)
    total = Lead.objects.count()
    new = Lead.objects.filter(status="new").count()
    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    # A rep who owns leads: the access rule then has real work to do.
    rep_id = (Lead.objects.filter(status="new", assigned_to__role="sales_rep").values_list("assigned_to", flat=True)
              .first())
    users = [u for u in (admin, User.objects.filter(pk=rep_id).first()) if u]
    print(f"leads: {total:,} ({new:,} new); {args.requests} requests per user; database {connection.vendor}")
    print("| user | rows | queries | p50 ms | p95 ms | p99 ms | mean ms | page SQL ms |")
    print("|---|---|---|---|---|---|---|---|")
    for user in users:
        r = measure(user, args.requests)
        sql = f"{r['sql_ms']:.2f}" if r["sql_ms"] is not None else "n/a"
        print(f"| {r['user']} | {r['rows']} | {r['queries']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
              f"| {r['mean']:.1f} | {sql} |")
    if args.search:
        print("\nsearch: GET /api/v1/leads/?q=WORD (first page)")
        print("| user | word | rows | queries | p50 ms | p95 ms |")
        print("|---|---|---|---|---|---|")
        for user in users:
            for word in args.search:
                r = measure(user, max(10, args.requests // 10), f"/api/v1/leads/?q={word}")
                print(f"| {r['user']} | {word} | {r['rows']} | {r['queries']} | {r['p50']:.1f} | {r['p95']:.1f} |")


if __name__ == "__main__":
    main()
