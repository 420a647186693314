"""Fixtures for activities: both store backends.

`backend` runs a test on the SQL store and on the MongoDB store over a real
pymongo connection to an nx-27017 server (a MongoDB wire-protocol server
backed by SQLite, installed from PyPI) that this file starts on a free port
for the session and stops afterwards. Where it cannot start, the MongoDB half
is skipped with the reason.
"""

import os
import uuid

import pytest

from activities.store import forget_stores, get_store
from tests.activities import nxserver


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Demo users are made with real passwords; a fast hasher keeps these tests quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def nx_server():
    """An nx-27017 server on a free port for the whole session: yields (uri, reason-if-none).

    TEST_MONGODB_URI points the MongoDB half at a real MongoDB instead.
    """
    if os.environ.get("TEST_MONGODB_URI"):
        yield os.environ["TEST_MONGODB_URI"], ""
        return
    proc, uri, reason = nxserver.start()
    yield uri, reason
    forget_stores()
    nxserver.stop(proc)


@pytest.fixture(params=["sql", pytest.param("mongodb", marks=pytest.mark.mongo)])
def backend(request, settings, nx_server):
    """The activity store under test: SQL, then MongoDB over a real connection."""
    forget_stores()
    if request.param == "sql":
        settings.MONGODB_URI = ""
        yield get_store()
        forget_stores()
        return
    uri, reason = nx_server
    if not uri:
        pytest.skip(reason)
    settings.MONGODB_URI = uri
    settings.MONGODB_DATABASE = f"test_activities_{uuid.uuid4().hex[:8]}"
    store = get_store()
    yield store
    store.client.drop_database(settings.MONGODB_DATABASE)
    forget_stores()


@pytest.fixture
def sql_store(settings):
    forget_stores()
    settings.MONGODB_URI = ""
    yield get_store()
    forget_stores()
