"""Prometheus metrics: the instruments, the scrape-time collectors and `/metrics`.

Two kinds of numbers:
- counted as things happen (requests, queries, cache calls, sign-in failures, Celery tasks): prometheus-client
  counters and histograms in each process. Under gunicorn or a prefork Celery worker each process counts
  alone, so those run with PROMETHEUS_MULTIPROC_DIR set and a scrape adds every process's files up
  (prometheus-client's multiprocess mode; see the README's operations section).
- read from the database when Prometheus scrapes (outbox, consumer lag, jobs, connections, models): collectors
  registered with `register_collector`, one query each, computed at scrape time and never cached. The kernel
  registers its own (salesapp.collectors); an app registers its collector from its AppConfig.ready, as the
  kernel imports no app.

`/metrics` answers only a request carrying `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN
set it answers nobody (401): the numbers name routes, queues and consumers, which are not for the public.
"""

import hmac
import os
import time

from celery import signals
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

# The `_created` twin of every counter doubles the series and no rule reads it.
disable_created_metrics()

# Bucket bounds in seconds; 0.2 is the seed's p95 target for the API, so it is a bound of its own.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

HTTP_REQUESTS = Counter("sales_http_requests", "HTTP requests answered, by route, method and status",
                        ["route", "method", "status"])
HTTP_LATENCY = Histogram("sales_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                         ["route", "method"], buckets=LATENCY_BUCKETS)
DB_QUERY_LATENCY = Histogram("sales_db_query_duration_seconds", "Time of one SQL statement run by a request",
                             ["database"], buckets=QUERY_BUCKETS)
CACHE_LATENCY = Histogram("sales_cache_operation_duration_seconds", "Time of one cache call", ["operation"],
                          buckets=QUERY_BUCKETS)
CACHE_FAILURES = Counter("sales_cache_errors", "Cache calls that failed (the app went on without the cache)")
LOGIN_FAILURES = Counter("sales_login_failures", "Failed sign-ins (wrong password or unknown account)")
LOGIN_LOCKOUTS = Counter("sales_login_lockouts", "Accounts or addresses locked out after too many failed sign-ins")
TASKS = Counter("sales_celery_tasks", "Celery tasks run, by task and outcome (succeeded, failed, retried)",
                ["task", "outcome"])
TASK_LATENCY = Histogram("sales_celery_task_duration_seconds", "Time a Celery task ran", ["task"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0))
JOBS_FAILED = Counter("sales_jobs_failed_by_watchdog", "Long jobs ended as failed because their worker died too often",
                      ["kind"])

_collectors: list = []


def register_collector(collector) -> None:
    """Add a scrape-time collector (an object with `collect()` yielding metric families), once."""
    if collector not in _collectors:
        _collectors.append(collector)


class _ThisProcess:
    """The counters of this process (single-process mode): the default registry's families."""

    def collect(self):
        yield from REGISTRY.collect()


def scrape_registry(*, database: bool = True) -> CollectorRegistry:
    """What one scrape answers: the counted numbers (of every process under multiprocess mode), and with
    `database` the scrape-time collectors. A Celery worker's own port leaves those to the web's /metrics."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if database:
        for collector in _collectors:
            registry.register(collector)
    return registry


def _token_ok(request) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request):
    """Prometheus text for a scraper holding METRICS_TOKEN; 401 for everyone else."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    if not _token_ok(request):
        return HttpResponse("A metrics token is required.\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def _route(request) -> str:
    """The route pattern (`api/v1/leads/<id:pk>/`), never the path: one series per route, not per record."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "unmatched"


class _QueryTimer:
    """An execute wrapper timing each statement of one database connection."""

    def __init__(self, alias: str):
        self.histogram = DB_QUERY_LATENCY.labels(alias)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.histogram.observe(time.perf_counter() - start)


def _time_queries(sender, connection, **kwargs) -> None:
    """Time every statement of a connection from its opening (requests, tasks and commands alike): installed
    once per connection object rather than around each request, which would cost every request."""
    if not any(isinstance(wrapper, _QueryTimer) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.append(_QueryTimer(connection.alias))


class MetricsMiddleware:
    """Count each request by route and status, and time it.

    First in MIDDLEWARE, so the time is the whole answer's, middlewares included. Django turns a view's
    exception into its 500 answer before it reaches here: errors are counted by status.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        start = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        HTTP_LATENCY.labels(route, request.method).observe(time.perf_counter() - start)
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        return response


# --- sign-ins and Celery tasks ------------------------------------------------------------------------------

def _login_failed(**kwargs) -> None:
    LOGIN_FAILURES.inc()


_task_started: dict[str, float] = {}


def _task_prerun(task_id=None, **kwargs) -> None:
    _task_started[task_id] = time.perf_counter()


def _task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_LATENCY.labels(task.name).observe(time.perf_counter() - started)
    outcome = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}.get(state)
    if outcome:
        TASKS.labels(task.name, outcome).inc()


def _worker_port(**kwargs) -> None:
    """A worker (or beat) started with CELERY_METRICS_PORT serves its processes' counters there (internal port:
    no token; its answering is also the container's liveness probe).

    Under the prefork pool each child counts in its own memory: PROMETHEUS_MULTIPROC_DIR must be set so the
    port answers for all of them."""
    if settings.CELERY_METRICS_PORT:
        start_http_server(settings.CELERY_METRICS_PORT, addr=settings.CELERY_METRICS_ADDR,
                          registry=scrape_registry(database=False))


def _worker_child_gone(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mark_process_dead(pid or os.getpid())


def connect() -> None:
    """Time SQL statements; count sign-in failures and Celery tasks; open a worker's metrics port (from the
    kernel's ready()). Lockouts are counted where they are recognised (salesapp.signin)."""
    connection_created.connect(_time_queries, dispatch_uid="salesapp-metrics-time-queries")
    user_login_failed.connect(_login_failed, dispatch_uid="salesapp-metrics-login-failed")
    signals.task_prerun.connect(_task_prerun, dispatch_uid="salesapp-metrics-task-prerun")
    signals.task_postrun.connect(_task_postrun, dispatch_uid="salesapp-metrics-task-postrun")
    signals.worker_init.connect(_worker_port, dispatch_uid="salesapp-metrics-worker-port")
    signals.beat_init.connect(_worker_port, dispatch_uid="salesapp-metrics-beat-port")
    signals.worker_process_shutdown.connect(_worker_child_gone, dispatch_uid="salesapp-metrics-child-gone")
