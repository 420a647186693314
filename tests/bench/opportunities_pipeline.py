"""Benchmark: the pipeline summary over 10,000 open deals of one owner, and PUT /api/v1/opportunities/<id>/.

Run on demand against PostgreSQL and Redis (it creates its own owner and deals once, by bulk insert):

    psql -h 127.0.0.1 -U postgres -c "create database sales_opportunities"
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_opportunities REDIS_URL=redis://127.0.0.1:6379/4
    .venv/bin/python manage.py migrate
    .venv/bin/python tests/bench/opportunities_pipeline.py [--deals 10000] [--runs 200]

Reports p50/p95 of
- the summary computed from PostgreSQL (the grouped query plus the weighted sum, through `restrict()`),
  and PostgreSQL's own EXPLAIN ANALYZE time for the grouped query;
- the summary served from the cache (`pipeline:user:{id}`);
- `GET /api/v1/pipeline/summary/` through the whole Django stack, cached;
- `PUT /api/v1/opportunities/<id>/` through the whole stack (JWT, permission, access rule, validation,
  stage rules, history row, outbox event, cache invalidation), alternating the stage so each PUT moves it.
In process with the test client: add a server's per-request overhead for end-to-end figures.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from opportunities import selectors  # noqa: E402
from opportunities.models import Account, Opportunity, Stage  # noqa: E402
from opportunities.services import accounts  # noqa: E402
from salesapp import events  # noqa: E402
from salesapp import services as kernel_services  # noqa: E402
from salesapp.models import User  # noqa: E402

OWNER_EMAIL = "bench.pipeline.owner@bench.example"
STAGES = ["discovery", "qualification", "proposal", "negotiation"]


def setup(deals: int) -> User:
    owner = User.objects.filter(email=OWNER_EMAIL).first() or kernel_services.user_create(
        email=OWNER_EMAIL, password="bench-pass-123", role="sales_rep")
    have = Opportunity.objects.filter(owner=owner).count()
    if have < deals:
        account = Account.objects.filter(name="Bench Co").first() or accounts.account_create(
            actor=owner, name="Bench Co", owner=owner)
        probs = {s.key: s.default_probability for s in Stage.objects.all()}
        now = timezone.now()
        rows = [
            Opportunity(name=f"Bench deal {i}", account=account, owner=owner, stage_id=STAGES[i % 4],
                        probability=probs[STAGES[i % 4]], amount=Decimal(1000 + i % 5000),
                        expected_close_date=date.today() + timedelta(days=i % 120), stage_changed_at=now,
                        created_at=now)
            for i in range(have, deals)
        ]
        Opportunity.objects.bulk_create(rows, batch_size=2000)
        with connection.cursor() as cur:
            cur.execute("ANALYZE opportunities_opportunity")
    return owner


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<58} p50 {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms   (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"database: {connection.vendor}; cache: {django.conf.settings.CACHES['default']['BACKEND']}")
    owner = setup(args.deals)
    print(f"open deals of the owner: {Opportunity.objects.filter(owner=owner, stage__is_closed=False).count()}")

    report("pipeline summary from the database", timed(
        lambda: selectors.pipeline_summary_uncached(user=owner, owner=owner.pk), args.runs))
    with CaptureQueriesContext(connection) as ctx:
        selectors.pipeline_summary_uncached(user=owner, owner=owner.pk)
    print(f"  queries per uncached summary: {len(ctx.captured_queries)}")
    if connection.vendor == "postgresql":
        grouped = (selectors.pipeline_scope(user=owner, owner=owner.pk).order_by().values("stage_id")
                   .annotate(c=django.db.models.Count("id"), s=django.db.models.Sum("amount"),
                             p=django.db.models.Sum("probability")))
        sql, params = grouped.query.sql_with_params()
        with connection.cursor() as cur:
            times = []
            for _ in range(20):
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                times.append(cur.fetchone()[0][0]["Execution Time"])
        print(f"  PostgreSQL execution time of the grouped query: p50 {statistics.median(times):.3f} ms")

    selectors.pipeline_summary(user=owner, owner=owner.pk)
    report("pipeline summary from the cache", timed(lambda: selectors.pipeline_summary(user=owner, owner=owner.pk),
                                                    args.runs))

    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")
    client.get(f"/api/v1/pipeline/summary/?owner={owner.pk}")
    report("GET /api/v1/pipeline/summary/ (cached, full stack)", timed(
        lambda: client.get(f"/api/v1/pipeline/summary/?owner={owner.pk}"), args.runs))

    opp = Opportunity.objects.filter(owner=owner, stage__is_closed=False).order_by("id").first()
    body = {"name": opp.name, "account_id": opp.account_id, "owner_id": owner.pk, "amount": "1500.00",
            "expected_close_date": (date.today() + timedelta(days=30)).isoformat(), "next_step": "bench"}
    state = {"i": 0}

    def put():
        state["i"] += 1
        resp = client.put(f"/api/v1/opportunities/{opp.pk}/",
                          {**body, "stage": STAGES[state["i"] % 2 + 1]}, content_type="application/json")
        assert resp.status_code == 200, resp.content

    put()
    with CaptureQueriesContext(connection) as ctx:
        put()
    queries = len(ctx.captured_queries)  # read now: each request resets the connection's query log
    report("PUT /api/v1/opportunities/<id>/ (stage move, full stack)", timed(put, args.runs))
    print(f"  queries per PUT: {queries} (including in-process event consumers)")

    # In services mode the relay hands events to RabbitMQ and consumers run in workers. Model that by
    # holding the relay (events stay pending in the outbox for the sweeper), so the request pays only
    # its own transaction and the in-process receivers.
    events._breaker["open_until"] = time.monotonic() + 3600
    with CaptureQueriesContext(connection) as ctx:
        put()
    queries = len(ctx.captured_queries)
    report("PUT /api/v1/opportunities/<id>/ (consumers out of process)", timed(put, args.runs))
    print(f"  queries per PUT: {queries}")
    events._breaker["open_until"] = 0.0
    from salesapp.models import OutboxEvent

    OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING, payload__owner_id=owner.pk).delete()


if __name__ == "__main__":
    main()
