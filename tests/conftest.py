"""Fixtures shared by every app's tests: users of each role and API clients."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from salesapp import cache as salesapp_cache
from salesapp import events
from salesapp.celery import app as celery_app
from tests.faults import TcpProxy, closed_port, redis_cache, use_broker
from tests.permissions.world import build_world
from tests.salesapp.factories import UserFactory


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Celery tasks run in the test process (no worker runs during tests).

    Only tests marked `rabbitmq` publish to the real broker.
    """
    eager = request.node.get_closest_marker("rabbitmq") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _imports_in_process(settings):
    """Imports run in the test's own thread (and transaction) unless a test asks for the embedded thread."""
    settings.IMPORTS_IN_THREAD = False


@pytest.fixture(autouse=True)
def _closed_event_breaker():
    """Each test starts with the event relay's breaker closed: it is process state, and a broker
    fault injected by one test must not keep the next tests' events from being delivered."""
    events._breaker["open_until"] = 0.0
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing is not under test; the default PBKDF2 costs ~0.3 s per user created or signed in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (Redis in services mode), and no cache outage that an earlier
    test's fault left in this process's memory."""
    salesapp_cache.forget_outage()
    cache.clear()
    yield


@pytest.fixture
def redis_down(settings):
    """Redis is configured and nothing answers at its address (refused at once)."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = redis_cache(url, timeout=1)
    yield url
    salesapp_cache.forget_outage()


@pytest.fixture
def proxied_redis(settings):
    """The cache reaches the real Redis through a TCP proxy the test may cut or hang (short timeouts and rest)."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (embedded mode): no Redis to put a proxy in front of")
    proxy = TcpProxy(settings.REDIS_URL, 6379).start()
    settings.REDIS_URL = proxy.url
    settings.CACHES = redis_cache(proxy.url, timeout=0.5)
    settings.CACHE_RETRY_SECONDS = 0.5
    yield proxy
    proxy.stop()
    salesapp_cache.forget_outage()


@pytest.fixture
def proxied_broker():
    """Celery publishes through a TCP proxy in front of the real RabbitMQ, which the test may cut or hang."""
    proxy = TcpProxy(settings.CELERY_BROKER_URL, 5672).start()
    use_broker(proxy.url)
    yield proxy
    proxy.stop()
    use_broker(settings.CELERY_BROKER_URL)


@pytest.fixture
def admin_user(db):
    return UserFactory(role="admin", email="admin@test.example")


@pytest.fixture
def manager(db):
    return UserFactory(role="sales_manager", email="manager@test.example")


@pytest.fixture
def rep(manager):
    return UserFactory(role="sales_rep", manager=manager, email="rep@test.example")


@pytest.fixture
def other_rep(db):
    return UserFactory(role="sales_rep", email="other.rep@test.example")


@pytest.fixture
def viewer(db):
    return UserFactory(role="read_only", email="viewer@test.example")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The permission matrix's world (tests/permissions/world.py), built once per module and rolled
    back at its end; the matrix and the API fuzz test walk it. Each test runs in its own savepoint
    (pytest-django's `db`), so a DELETE in one never takes a record away from the next.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it like a bearer token would."""

    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client


CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright's own browser download does not work here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    """Tests marked `browser` skip, saying why, where Debian's Chromium is not installed."""
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Debian's chromium is not installed at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def browser_page(monkeypatch):
    """A Chromium page driven by Playwright, for tests that use `live_server`, on a laptop's screen (1440 x 900:
    the top bar is unfolded from 1400 px; tests of phones and narrow windows set their own size)."""
    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls (the live server runs in its own thread) must still be allowed.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()
