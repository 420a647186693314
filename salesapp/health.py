"""/healthz: the state of every configured service.

The embedded default reports its database only. A service that is configured
(its URL is set) and unreachable makes the answer 503 and is logged: it is
never quietly replaced by the embedded fallback.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse

from salesapp.events import consumer_lag_seconds
from salesapp.models import ConsumerFailure, OutboxEvent

log = logging.getLogger("salesapp.health")


def _database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return connections["default"].vendor


def _cache():
    cache.set("healthz", "1", 5)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache did not return what was stored")
    return "redis"


def _broker():
    from salesapp.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "rabbitmq"


def _elasticsearch():
    from salesapp.search_engine import client

    if not client().options(request_timeout=2).ping():
        raise RuntimeError("ping failed")
    return "elasticsearch"


def _mongodb():
    import pymongo

    client = pymongo.MongoClient(settings.MONGODB_URI, serverSelectionTimeoutMS=2000)
    client.admin.command("ping")
    return "mongodb"


def configured_checks():
    """(service name, check) for the database and each configured service."""
    checks = [("database", _database)]
    if settings.REDIS_URL:
        checks.append(("cache", _cache))
    if settings.CELERY_BROKER_URL:
        checks.append(("broker", _broker))
    if settings.ELASTICSEARCH_URL:
        checks.append(("search", _elasticsearch))
    if settings.MONGODB_URI:
        checks.append(("activity_store", _mongodb))
    return checks


def service_status() -> tuple[bool, dict]:
    """Run every check; (all ok, per-service status)."""
    report = {}
    healthy = True
    for name, check in configured_checks():
        start = time.perf_counter()
        try:
            backend = check()
            report[name] = {"status": "ok", "backend": backend, "ms": round((time.perf_counter() - start) * 1000, 1)}
        except Exception as exc:  # whatever a check raises is that service being down, reported below
            healthy = False
            report[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
            log.error("health check: %s is down: %s", name, exc)
    embedded = {
        "cache": "local memory",
        "broker": "eager (in process)",
        "search": "database",
        "activity_store": "sql",
    }
    for name, backend in embedded.items():
        report.setdefault(name, {"status": "ok", "backend": backend, "embedded": True})
    return healthy, report


def delivery_status() -> dict:
    """How event delivery is doing: what waits to be sent, what is dead-lettered, how far consumers lag."""
    return {
        "outbox_pending": OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).count(),
        "outbox_dead": OutboxEvent.objects.filter(status=OutboxEvent.Status.DEAD).count(),
        "consumers_dead": ConsumerFailure.objects.filter(status=ConsumerFailure.Status.DEAD).count(),
        "consumer_lag_seconds": round(consumer_lag_seconds(), 1),
    }


def healthz(request):
    healthy, report = service_status()
    body = {"status": "ok" if healthy else "degraded", "services": report}
    if report["database"]["status"] == "ok":
        body["delivery"] = delivery_status()
    return JsonResponse(body, status=200 if healthy else 503)
