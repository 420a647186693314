"""Benchmark: search figures (run on demand, never as a test): index lag, search latency, rebuild throughput.

Needs PostgreSQL seeded at scale and Redis (the Celery broker of the worker this script starts):

    createdb sales_search_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_search_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py shell -c "from tests.bench.seed import seed; seed(leads=100000)"
    .venv/bin/python tests/bench/search_figures.py [--broker redis://127.0.0.1:6379/13] [--es-url URL]

What it measures, in order:

1. search latency on the database fallback (PostgreSQL full-text + trigram): `search_records` across the
   four kinds (hits, total, facets) and a list's `?search=` first page, per term, as a rep, a manager and
   an admin; p50/p95.
2. rebuild throughput: `search_index rebuild` of every kind into a search server (an osmem-server it
   starts, or `--es-url`), documents per second.
3. search latency on the search server, the same searches; p50/p95.
4. index lag, commit to searchable, under a steady write load (`--rate` leads per second through the lead
   service) with a real Celery worker (a subprocess) applying the events; p50/p95/max.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13", help="Celery broker of the lag run")
    parser.add_argument("--es-url", default="", help="a running Elasticsearch/OpenSearch (default: start osmem)")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per search")
    parser.add_argument("--lag-writes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="lead writes per second during the lag run")
    parser.add_argument("--skip-fallback", action="store_true")
    parser.add_argument("--terms", nargs="*", default=["smith", "globex", "hana kim", "qqzzxx", "company:acme",
                                                        "email:hana"])
    parser.add_argument("--roles", nargs="*", default=["rep", "manager", "admin"])
    return parser.parse_args()


ARGS = _parse()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
os.environ["CELERY_BROKER_URL"] = ARGS.broker  # the writes of the lag run go to the worker through it

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from osmem_server import OsmemServer  # noqa: E402

from leads import services as leads  # noqa: E402
from leads.models import Lead  # noqa: E402
from salesapp import search_engine  # noqa: E402
from salesapp.models import User  # noqa: E402
from salesapp.search import SearchRequest, search_filter, search_records  # noqa: E402
from salesapp.search_kinds import search_kinds  # noqa: E402


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), pct(samples, 95)


def people() -> dict[str, User]:
    manager = User.objects.filter(role="sales_manager", reports__isnull=False).order_by("pk").first()
    return {
        "rep": User.objects.filter(role="sales_rep", leads__isnull=False).order_by("pk").first(),
        "manager": manager,
        "admin": User.objects.filter(role="admin").order_by("pk").first(),
    }


def latency(label: str, who: dict[str, User]) -> None:
    print(f"\n{label}: search latency, ms (p50 / p95 of {ARGS.runs} runs)")
    print(f"{'term':<16}{'user':<9}{'results':>9}{'all kinds':>16}{'lead list':>16}")
    for term in ARGS.terms:
        for role in ARGS.roles:
            user = who[role]
            answer = search_records(user=user, request=SearchRequest(text=term))
            across = timed(lambda u=user, t=term: search_records(user=u, request=SearchRequest(text=t)), ARGS.runs)
            listed = timed(lambda u=user, t=term: list(search_filter(
                Lead.objects.restrict(u).order_by("-pk"), t, user=u).values_list("pk", flat=True)[:51]), ARGS.runs)
            print(f"{term:<16}{role:<9}{answer['total']:>9}{across[0]:>8.1f}/{across[1]:<7.1f}"
                  f"{listed[0]:>8.1f}/{listed[1]:<7.1f}", flush=True)


def rebuild_all() -> None:
    print("\nrebuild (alias swap), documents per second")
    for kind in search_kinds():
        report = search_engine.rebuild(kind.key, batch_size=2000)
        rate = report.documents / report.seconds if report.seconds else 0
        print(f"{kind.key:<9}{report.documents:>9,} docs {report.seconds:>7.1f} s {rate:>9,.0f}/s", flush=True)


def index_lag(who: dict[str, User]) -> None:
    """Steady lead writes through the service; a worker applies the events; time commit -> searchable."""
    env = {**os.environ, "ELASTICSEARCH_URL": settings.ELASTICSEARCH_URL,
           "ELASTICSEARCH_INDEX_PREFIX": settings.ELASTICSEARCH_INDEX_PREFIX}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "salesapp", "worker", "-Q", "events,celery", "--pool", "solo",
         "-l", "warning"], cwd=ROOT, env=env)
    es, alias = search_engine.client(), search_engine.alias("lead")
    committed: dict[int, float] = {}
    lags: list[float] = []
    lock, writing_done = threading.Lock(), threading.Event()

    def poll():
        while not (writing_done.is_set() and not committed):
            with lock:
                pending = list(committed)
            if pending:
                found = es.search(index=alias, query={"ids": {"values": [str(p) for p in pending]}},
                                  size=len(pending), source=False)["hits"]["hits"]
                now = time.perf_counter()
                with lock:
                    for hit in found:
                        lags.append((now - committed.pop(int(hit["_id"]))) * 1000)
            time.sleep(0.01)

    try:
        time.sleep(5)  # the worker connects
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        actor = who["admin"]
        interval = 1 / ARGS.rate
        for i in range(ARGS.lag_writes):
            started = time.perf_counter()
            with transaction.atomic():
                lead = leads.lead_create(actor=actor, first_name="Lag", last_name=f"Probe{i}",
                                         email=f"lag.probe.{time.time_ns()}@bench.example", company="Lag Bench")
            with lock:
                committed[lead.pk] = time.perf_counter()  # after commit (and the relay to the broker)
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
        writing_done.set()
        poller.join(timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    print(f"\nindex lag, commit -> searchable, {len(lags)} of {ARGS.lag_writes} leads at {ARGS.rate}/s with one worker:"
          f" p50 {statistics.median(lags):.0f} ms, p95 {pct(lags, 95):.0f} ms, max {max(lags):.0f} ms"
          + (f"; {len(committed)} never seen in 60 s" if committed else ""))


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("set DATABASE_URL to a seeded PostgreSQL database (see the docstring)")
    who = people()
    counts = {kind.key: kind.indexed().count() for kind in search_kinds()}
    print(f"data: {counts}")
    if not ARGS.skip_fallback:
        settings.ELASTICSEARCH_URL = ""
        latency("database fallback (PostgreSQL)", who)
    server = None if ARGS.es_url else OsmemServer.start(freeze=False, japanese=False)
    try:
        settings.ELASTICSEARCH_URL = ARGS.es_url or server.url
        settings.ELASTICSEARCH_INDEX_PREFIX = ARGS.prefix
        print(f"\nsearch server: {settings.ELASTICSEARCH_URL} ({search_engine.server_flavor(settings.ELASTICSEARCH_URL)})")
        rebuild_all()
        latency("search server", who)
        index_lag(who)
    finally:
        if server:
            server.close()


if __name__ == "__main__":
    main()
