"""A running search server for the search suite.

By default a session-wide osmem-server (the PyPI package in requirements: an in-memory
OpenSearch-compatible server, no JVM) is started on a free port; with TEST_ELASTICSEARCH_URL set,
the same suite runs against that server instead (a real Elasticsearch 8 or OpenSearch). Each test
gets its own index prefix, removed afterwards, so tests never see each other's documents.
"""

import os
import uuid

import pytest
from osmem_server import OsmemServer

from salesapp import search_engine


@pytest.fixture(scope="session")
def search_server_url():
    """The URL of a running search server for the whole session."""
    url = os.environ.get("TEST_ELASTICSEARCH_URL")
    if url:
        yield url
        return
    server = OsmemServer.start(freeze=False, japanese=False)
    yield server.url
    server.close()


@pytest.fixture
def search_on(settings, search_server_url):
    """Elasticsearch is the configured search engine for this test, with indices of its own (written with
    an immediate refresh, so what a test writes it can search at once)."""
    settings.ELASTICSEARCH_URL = search_server_url
    settings.ELASTICSEARCH_INDEX_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    settings.ELASTICSEARCH_REFRESH = "true"
    yield search_server_url
    es = search_engine.client()
    for name in es.indices.get(index=f"{settings.ELASTICSEARCH_INDEX_PREFIX}-*", allow_no_indices=True):
        es.indices.delete(index=name)


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """`with delivered(): ...` runs what the block commits' after-commit work (events and their consumers)
    at the end of the block, as a real commit would; the test itself runs in a transaction."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
