"""In-process half of the benchmark (run by run_bench.py with Django set up).

Builds the request set of every API row, counts the queries each request runs
and keeps the SQL (for the EXPLAIN ANALYZE timing and the minimal WSGI app),
and times the database rows: lead full-text search, the pipeline summary,
territory assignment of one record and quota calculation.
"""

import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings.production")
django.setup()

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from salesapp.models import User  # noqa: E402

rng = random.Random(7)
SEARCH_TERMS = ["Smith", "Globex", "acme", "Nguyen", "Hooli 12", "vp sales"]
LEADS_PATH = "/api/v1/leads/"
LEADS_LIST_PATH = f"{LEADS_PATH}?status=new"


UI_PAGES = [("lead list page", "page_leads", "/leads/?status=new"), ("pipeline board page", "page_board", "/pipeline/"),
            ("forecast page", "page_forecast", "/forecast/")]


def lead_search_path(term: str) -> str:
    """The lead API's full-text search (its parameter is `q`; an unknown parameter would list every lead)."""
    return f"{LEADS_PATH}?{urlencode({'q': term})}"


def lead_create_body(i: int) -> dict:
    """A new lead for the POST /leads row: unique email and company, so no duplicate check short-cuts it."""
    return {"first_name": "Bench", "last_name": f"Post{i}", "email": f"bench.post.{uuid.uuid4().hex[:12]}@post{i}.example",
            "company": f"Post Co {uuid.uuid4().hex[:8]}", "country": "US", "state": "CA", "industry": "technology",
            "source": "web"}
AUTH_TABLES = ("salesapp_user", "auth_", "django_session", "token_blacklist", "guardian_", "django_content_type")


def percentiles(samples_ms):
    s = sorted(samples_ms)

    def pick(p):
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99)}


def is_domain_sql(sql: str) -> bool:
    head = sql.split(" WHERE ", maxsplit=1)[0]
    from_part = head.split(" FROM ", 1)[1] if " FROM " in head else head
    return not any(f'"{t}' in from_part.split(" ")[0] for t in AUTH_TABLES) and not sql.startswith(("SAVEPOINT", "RELEASE"))


def explain_ms(statements, write: bool) -> float:
    """Execution time the database reports for the statements (EXPLAIN ANALYZE), median of 5."""
    runs = []
    for _ in range(5):
        total = 0.0
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                for sql in statements:
                    if not sql.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
                        continue
                    # A write replayed from the probe may clash with what the probe committed
                    # (a unique key); such a statement is skipped, the rest still count.
                    cursor.execute("SAVEPOINT bench")
                    try:
                        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    except Exception:
                        cursor.execute("ROLLBACK TO SAVEPOINT bench")
                        continue
                    plan = cursor.fetchone()[0]
                    plan = json.loads(plan) if isinstance(plan, str) else plan
                    total += plan[0]["Execution Time"] + plan[0].get("Planning Time", 0)
            finally:
                cursor.execute("ROLLBACK")
        runs.append(total)
    return statistics.median(runs)


def main(out_path: str):
    manager = User.objects.filter(role="sales_manager", email__endswith="@bench.example").order_by("id").first()
    rep = User.objects.filter(role="sales_rep", manager=manager).order_by("id").first()
    token = str(AccessToken.for_user(manager))
    rep_token = str(AccessToken.for_user(rep))
    clients = {who: Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {t}")
               for who, t in (("manager", token), ("rep", rep_token))}
    Opportunity = apps.get_model("opportunities", "Opportunity")

    def probe(method, path, body=None, who="manager"):
        with CaptureQueriesContext(connection) as ctx:
            fn = getattr(clients[who], method.lower())
            resp = fn(path, data=json.dumps(body), content_type="application/json") if body is not None else fn(path)
        if resp.status_code >= 400:
            print(f"WARNING {method} {path} answered {resp.status_code}: {resp.content[:300]!r}", flush=True)
        return resp, [q["sql"] for q in ctx.captured_queries]

    api_rows, raw_plan = [], {}

    def add(name, key, requests, read, who="manager"):
        # The first request fills the caches a running server has warm (permissions, reach, stages); the second
        # is the one counted, as every later request of the row runs.
        warm, counted = requests[0], requests[1 % len(requests)]
        probe(warm["method"], warm["path"], warm.get("body"), who)
        resp, sqls = probe(counted["method"], counted["path"], counted.get("body"), who)
        domain = [s for s in sqls if is_domain_sql(s)]
        raw_plan[key] = {"statements": domain, "write": not read}
        api_rows.append({
            "name": name, "key": key, "requests": requests, "read": read, "queries": len(sqls),
            "status": resp.status_code, "raw_sql_ms": explain_ms(domain, write=not read), "as": who,
        })

    add("GET /leads", "leads_list", [{"method": "GET", "path": LEADS_LIST_PATH}], True)
    add("GET /leads (rep)", "leads_list_rep", [{"method": "GET", "path": LEADS_LIST_PATH}], True, who="rep")
    add("POST /leads", "leads_create", [
        {"method": "POST", "path": LEADS_PATH, "body": lead_create_body(i)} for i in range(4000)], False)
    add("GET /opportunities", "opportunities_list", [{"method": "GET", "path": "/api/v1/opportunities/"}], True)
    subtree = list(User.objects.filter(manager=manager).values_list("id", flat=True)) + [manager.id]
    open_ids = list(
        Opportunity.objects.filter(owner_id__in=subtree, stage__in=["discovery", "qualification", "proposal"])
        .values_list("id", flat=True)[:300]
    )
    puts = []
    for oid in open_ids:
        resp, _ = probe("GET", f"/api/v1/opportunities/{oid}/")
        body = resp.json()
        body = {k: v for k, v in body.items() if not isinstance(v, (dict, list)) or k == "contacts"}
        body["next_step"] = f"bench step {rng.randint(1, 10**6)}"
        puts.append({"method": "PUT", "path": f"/api/v1/opportunities/{oid}/", "body": body})
    add("PUT /opportunities/:id", "opportunities_put", puts, False)
    # UI pages as the manager signed in to the browser (session cookie): the HTML a person waits for.
    page_client = Client(HTTP_HOST="127.0.0.1")
    page_client.force_login(manager)
    session = page_client.cookies[settings.SESSION_COOKIE_NAME].value
    clients["browser"] = page_client
    for name, key, path in UI_PAGES:
        add(name, key, [{"method": "GET", "path": path}], True, who="browser")
    add("GET /territories", "territories_list", [{"method": "GET", "path": "/api/v1/territories/"}], True)
    add("POST /forecasts", "forecasts_create", [
        {"method": "POST", "path": "/api/v1/forecasts/", "body": {
            "period": "Q4_2026", "commit": str(100000 + i), "best_case": str(150000 + i), "notes": "bench"}}
        for i in range(200)
    ], False)

    db_rows = []

    # Lead full-text search, through the lead API's search parameter (`q`).
    samples, sqls = [], []
    for term in SEARCH_TERMS * 5:
        t = time.perf_counter()
        resp, sqls = probe("GET", lead_search_path(term))
        samples.append((time.perf_counter() - t) * 1000)
    domain = [s for s in sqls if is_domain_sql(s)]
    db_rows.append({"name": "lead full-text search", **percentiles(samples), "queries": len(sqls),
                    "raw_sql_ms": explain_ms(domain, write=False)})

    # Pipeline summary of a manager's subtree, computed (cache cleared) each time.
    samples = []
    for _ in range(20):
        cache.clear()
        t = time.perf_counter()
        resp, sqls = probe("GET", f"/api/v1/pipeline/summary/?team={manager.id}")
        samples.append((time.perf_counter() - t) * 1000)
    domain = [s for s in sqls if is_domain_sql(s)]
    db_rows.append({"name": "opportunity aggregation (pipeline summary)", **percentiles(samples),
                    "queries": len(sqls), "raw_sql_ms": explain_ms(domain, write=False)})

    # Territory assignment of one record against the active territories (compiled index warm).
    from territories.matching import territory_match  # noqa: PLC0415

    records = [
        {"country": rng.choice(["US", "CA", "DE", "GB"]), "state": rng.choice(["CA", "WA", "NY", "TX", ""]),
         "postal_code": str(rng.randint(10000, 99999)), "industry": rng.choice(["technology", "finance"]),
         "employee_count": rng.randint(1, 5000), "annual_revenue": rng.randint(1, 10**8)}
        for _ in range(2000)
    ]
    territory_match(records[0])
    samples = []
    for rec in records:
        t = time.perf_counter()
        territory_match(rec)
        samples.append((time.perf_counter() - t) * 1000)
    db_rows.append({"name": "territory assignment (one record)", **percentiles(samples), "queries": 0})

    # Quota calculation: recompute every quota.
    samples = []
    for _ in range(3):
        t = time.perf_counter()
        call_command("recompute_quotas", verbosity=0)
        samples.append((time.perf_counter() - t) * 1000)
    db_rows.append({"name": "quota calculation (500 reps x 4 quarters)", **percentiles(samples), "queries": "-"})

    # The same when every quota crosses 100% at once: the quota.attained events are published, not consumed here.
    from quotas.attainment import quotas_recompute  # noqa: PLC0415

    Quota = apps.get_model("quotas", "Quota")
    kept = ("quota_amount", "attained_at", "attainment_amount", "attainment_percentage")
    saved = [Quota(pk=row[0], **dict(zip(kept, row[1:], strict=True)))
             for row in Quota.objects.values_list("pk", *kept)]
    samples, crossed = [], 0
    try:
        for _ in range(3):
            Quota.objects.update(quota_amount=1, attained_at=None, attainment_amount=0, attainment_percentage=0)
            t = time.perf_counter()
            crossed = len(quotas_recompute()["attained"])
            samples.append((time.perf_counter() - t) * 1000)
    finally:
        Quota.objects.bulk_update(saved, kept, batch_size=500)
    db_rows.append({"name": f"quota calculation, {crossed} quotas crossing 100% at once", **percentiles(samples),
                    "queries": "-"})

    raw_file = Path(out_path).with_name("raw_plan.json")
    raw_file.write_text(json.dumps(raw_plan))
    sizes = {name: apps.get_model(*label.split(".")).objects.count() for name, label in [
        ("leads", "leads.Lead"), ("opportunities", "opportunities.Opportunity"), ("accounts", "opportunities.Account"),
        ("users", "salesapp.User"), ("territories", "territories.Territory"),
    ]}
    try:
        sizes["activities"] = apps.get_model("activities", "Activity").objects.count()
        sizes["quotas"] = apps.get_model("quotas", "Quota").objects.count()
    except LookupError:
        pass
    Path(out_path).write_text(json.dumps({
        "token": token, "rep_token": rep_token, "session": session, "session_cookie_name": settings.SESSION_COOKIE_NAME, "api_rows": api_rows, "db_rows": db_rows, "raw_plan_file": str(raw_file), "sizes": sizes,
    }, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
