"""/healthz: per-service status; a configured service that is down is a 503 and a log line."""

import logging
import os

import pytest
from django.conf import settings as django_settings

from tests.faults import closed_port

pytestmark = pytest.mark.django_db


def test_healthz_is_200_with_each_service_status(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    services = body["services"]
    assert set(services) >= {"database", "cache", "broker", "search", "activity_store"}
    assert all(s["status"] == "ok" for s in services.values())
    assert services["database"]["backend"] == ("postgresql" if django_settings.IS_POSTGRES else "sqlite")
    if not django_settings.REDIS_URL:
        # The embedded default says which in-process stand-in it uses.
        assert services["cache"] == {"status": "ok", "backend": "local memory", "embedded": True}
        assert services["broker"]["backend"] == "eager (in process)"


def test_healthz_needs_no_sign_in(client):
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def broker_down(settings, monkeypatch):
    url = f"amqp://guest:guest@127.0.0.1:{closed_port()}//"
    settings.CELERY_BROKER_URL = url
    # Celery reads the environment variable before its configuration.
    monkeypatch.setitem(os.environ, "CELERY_BROKER_URL", url)
    return url


def test_configured_cache_that_is_down_is_503_naming_it_and_logged(redis_down, client, caplog):
    with caplog.at_level(logging.ERROR, logger="salesapp.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["cache"]["status"] == "down"
    assert body["services"]["cache"]["error"]
    assert body["services"]["database"]["status"] == "ok"
    assert any("cache is down" in r.getMessage() for r in caplog.records)


def test_configured_broker_that_is_down_is_503_naming_it_and_logged(broker_down, client, caplog):
    with caplog.at_level(logging.ERROR, logger="salesapp.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    broker = response.json()["services"]["broker"]
    assert broker["status"] == "down"
    assert "embedded" not in broker  # never reported as the eager fallback
    assert any("broker is down" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("setting", "url", "service"),
    [
        ("MONGODB_URI", "mongodb://127.0.0.1:{port}/", "activity_store"),
        ("ELASTICSEARCH_URL", "http://127.0.0.1:{port}", "search"),
    ],
)
def test_configured_store_that_is_down_is_503_naming_it(settings, client, setting, url, service):
    setattr(settings, setting, url.format(port=closed_port()))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["services"][service]["status"] == "down"
