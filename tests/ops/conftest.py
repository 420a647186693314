"""Throwaway PostgreSQL clusters for the operations tests: made once per test session, dropped at its end."""

import pytest
from django.conf import settings
from django.db import connections

from tests.ops import pgclusters

DATABASE = "sales"


@pytest.fixture(scope="session")
def replica_pair(django_db_setup, django_db_blocker):
    """(primary, replica): a primary of our own holding a copy of the migrated test database, and a
    streaming replica of it. The main cluster's pg_hba.conf admits no replication, so it is not used."""
    if not settings.IS_POSTGRES:
        pytest.skip("embedded pass (SQLite): the replica test runs in the PostgreSQL pass of .ci/run, "
                    "which has pg_createcluster and pg_basebackup")
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
    source = connections["default"].settings_dict
    primary, replica = pgclusters.primary_with_replica()
    try:
        pgclusters.copy_database(
            source_url_args=["-h", source["HOST"], "-p", str(source["PORT"]), "-U", source["USER"], name],
            target=primary, database=DATABASE)
        yield primary, replica
    finally:
        replica.drop()
        primary.drop()
