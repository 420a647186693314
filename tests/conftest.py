"""Fixtures shared by every app's tests: users of each role and API clients."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from salesapp.celery import app as celery_app
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
def _fast_password_hashing(settings):
    """Hashing is not under test; the default PBKDF2 costs ~0.3 s per user created or signed in."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (Redis in services mode)."""
    cache.clear()
    yield


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


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates it like a bearer token would."""

    client = APIClient()

    def as_user(user):
        client.force_authenticate(user=user)
        return client

    client.as_user = as_user
    return client
