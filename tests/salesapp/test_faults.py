"""Faults of the services under the API: a Redis cut or hang, a broker hang, a PostgreSQL hang.

Each test puts a TCP proxy of its own (tests.faults) in front of the real service and cuts or
hangs it; the shared servers are never touched. A hang is a peer that accepts and acknowledges
everything and answers nothing. Where a test checks that a request ends at all while a service
hangs, it waits for the request on a thread with a generous limit: the point is that the request
ends (a hang without a timeout would hold it for ever), not how fast.
"""

import logging
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache as django_cache
from django.db import OperationalError, connections
from rest_framework.test import APIClient

from leads.dedup import lead_find_by_email
from opportunities.selectors import pipeline_summary
from opportunities.services import deals
from salesapp import cache
from salesapp.models import OutboxEvent
from salesapp.postgresql.base import DatabaseWrapper
from tests.faults import TcpProxy
from tests.leads.factories import LeadFactory
from tests.opportunities.factories import OpportunityFactory

ENDS_WITHIN = 30  # seconds: far above every configured timeout, far below "for ever"


def _in_thread(call):
    """Run `call` on a thread with its own database connection; (ended, result or exception)."""
    box = {}

    def run():
        try:
            box["result"] = call()
        except Exception as exc:  # handed to the test, which asserts on it
            box["result"] = exc
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(ENDS_WITHIN)
    return not worker.is_alive(), box.get("result")


def _until_cache_answers():
    """Ask through the kernel helper until the outage is over (the retry rest is short here)."""
    for _ in range(40):
        cache.get("faults:probe")
        if cache.outage() is None:
            return True
        time.sleep(0.25)
    return False


@pytest.mark.django_db
def test_during_a_redis_cut_the_api_answers_and_healthz_names_the_cache(proxied_redis, rep, bearer, caplog):
    mine = LeadFactory(assigned_to=rep, company="Cut Co")
    # Given Redis is cut off
    proxied_redis.stop()
    with caplog.at_level(logging.WARNING, logger="salesapp.cache"):
        # When the rep signs in and lists leads, several times
        client = bearer(rep)
        answers = [client.get("/api/v1/leads/") for _ in range(3)]
        health = APIClient().get("/healthz")
    # Then every answer is 200 with the rep's lead (permissions and throttle from the fallback)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [row["id"] for row in answers[0].json()["results"]] == [mine.pk]
    # And /healthz still says the cache is down, naming it
    assert health.status_code == 503
    assert health.json()["services"]["cache"]["status"] == "down"
    # And the outage is logged once, not per request
    outage_lines = [r for r in caplog.records if r.name == "salesapp.cache" and "unreachable" in r.getMessage()]
    assert len(outage_lines) == 1

    # When Redis is back
    proxied_redis.start()
    with caplog.at_level(logging.WARNING, logger="salesapp.cache"):
        assert _until_cache_answers()
        assert client.get("/api/v1/leads/").status_code == 200
    # Then the cache is used again: the rep's permission set and throttle count are stored in Redis
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert django_cache.get(f"perms:user:{rep.pk}:{cache.version('perms:version')}") is not None
    assert any(key.startswith(f"throttle:user_minute:u{rep.pk}:") for key in _redis_keys())
    assert APIClient().get("/healthz").status_code == 200


def _redis_keys():
    """The app's keys in Redis, without django-redis's "<prefix>:<version>:"."""
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX", "")
    return [k.decode().split(":", 2)[2] for k in django_cache.client.get_client().keys(f"{prefix}:*")]


@pytest.mark.django_db(transaction=True)
def test_a_hung_redis_holds_a_request_no_longer_than_its_timeout_and_is_asked_once(
        proxied_redis, settings, rep, bearer):
    mine = LeadFactory(assigned_to=rep)
    client = bearer(rep)
    assert client.get("/api/v1/leads/").status_code == 200  # the pool holds a live connection now
    # Given Redis accepts connections and answers nothing (and the rest after a failure outlasts the test)
    proxied_redis.hang()
    settings.CACHE_RETRY_SECONDS = 600
    # When the rep lists leads three times
    ended, answers = _in_thread(lambda: [client.get("/api/v1/leads/") for _ in range(3)])
    # Then each request ended, answering 200 with the lead
    assert ended, "a hung Redis held the request"
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[-1].json()["results"][0]["id"] == mine.pk
    # And Redis was waited on once (one socket timeout), not on every cache call of every request
    assert cache.outage()["failures"] == 1


@pytest.mark.rabbitmq
@pytest.mark.skipif(not django_settings.CELERY_BROKER_URL, reason="CELERY_BROKER_URL is not set (embedded mode)")
@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_leaves_the_write_committed_and_its_event_pending(proxied_broker, rep, api):
    client = api.as_user(rep)
    # Given the app has a live broker connection (a first write published its events)
    assert client.post("/api/v1/leads/", {"email": "first@hang.example", "company": "First"}).status_code == 201
    # And then the broker hangs: it takes every byte and answers nothing
    proxied_broker.hang()
    # When the rep creates a lead
    ended, response = _in_thread(
        lambda: client.post("/api/v1/leads/", {"email": "second@hang.example", "company": "Second"}))
    # Then the request ends with the lead created
    assert ended, "a hung broker held the request"
    assert response.status_code == 201, response.content
    lead = lead_find_by_email("second@hang.example")
    # And its event waits in the outbox for the sweeper, with the reason
    event = OutboxEvent.objects.get(name="lead.created", payload__lead_id=lead.pk)
    assert event.status == OutboxEvent.Status.PENDING
    assert event.last_error


@pytest.mark.skipif(not django_settings.IS_POSTGRES, reason="PostgreSQL only (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_hung_database_connection_fails_the_statement_after_the_answer_timeout():
    # Given a connection to PostgreSQL through a proxy, answering
    real = connections["default"].settings_dict
    proxy = TcpProxy(f"postgres://{real['HOST']}:{real['PORT'] or 5432}", 5432).start()
    database = DatabaseWrapper({**real, "HOST": "127.0.0.1", "PORT": proxy.port,
                                "OPTIONS": {**real["OPTIONS"], "answer_timeout": 1.0, "connect_timeout": 2}},
                               alias="hung")
    database.inc_thread_sharing()  # the statement runs on a thread, so the test can wait for it with a limit
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        # When the database (or a proxy in front of it) stops answering mid-session
        proxy.hang()

        def statement():
            with database.cursor() as cursor:
                cursor.execute("SELECT 2")

        ended, outcome = _in_thread(statement)
        # Then the statement fails, saying why, and the connection is not reused
        assert ended
        assert isinstance(outcome, OperationalError)
        assert "no answer" in str(outcome)
        assert database.connection.closed
        # And a new connection attempt to the hung server fails too (connect_timeout), rather than waiting
        database.close()
        ended, outcome = _in_thread(database.ensure_connection)
        assert ended
        assert isinstance(outcome, OperationalError)
    finally:
        database.close()
        proxy.stop()
    _until_session_gone(backend)


def _until_session_gone(pid: int) -> None:
    """The server ends a session whose socket the proxy closed a moment later: wait for that, so the test
    database can be dropped."""
    with connections["default"].cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.mark.django_db
def test_an_invalidation_missed_during_a_redis_cut_is_replayed_when_redis_answers(
        proxied_redis, rep, django_capture_on_commit_callbacks):
    # Given a rep's pipeline summary served from the cache
    deal = OpportunityFactory(owner=rep, amount=1000)
    assert pipeline_summary(user=rep)["total_amount"] == 1000
    assert pipeline_summary(user=rep)["cached"] is True
    # When Redis is cut while the deal changes (the summary's invalidation cannot reach it)
    proxied_redis.stop()
    with django_capture_on_commit_callbacks(execute=True):
        deals.opportunity_update(actor=rep, opportunity=deal, amount=5000)
    assert pipeline_summary(user=rep)["total_amount"] == 5000  # from the database meanwhile
    # And Redis comes back still holding the old summary
    proxied_redis.start()
    assert _until_cache_answers()
    # Then the rep sees the new amount: the missed invalidation was replayed
    assert pipeline_summary(user=rep)["total_amount"] == 5000
