"""Drives the app against a real primary and its streaming replica; prints what a client saw, as JSON.

Run by tests/ops/test_replicas.py in a process of its own, with DATABASE_URL naming the primary and
DATABASE_REPLICA_URL its replica (the test process's own database is the main cluster's test database).
Replay on the replica is paused half-way, so a read the replica served cannot show a deal written after
the pause, and a read the primary served does.
"""

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from django.conf import settings  # noqa: E402  (after django.setup(), as every Django import here)
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402

from salesapp import replicas  # noqa: E402
from tests.opportunities.factories import OpportunityFactory  # noqa: E402
from tests.salesapp.factories import UserFactory  # noqa: E402


def _scalar(alias: str, sql: str):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _wait_replayed() -> None:
    """Until the replica replayed everything the primary wrote so far.

    The target is the WAL insert position, not the write position: the test clusters run with
    synchronous_commit=off, so a commit just made (the client's session) may not be written yet, and waiting
    for the write position alone let the replica pause before it (a 401 on the next read).
    """
    target = _scalar("default", "SELECT pg_current_wal_insert_lsn()")
    deadline = time.monotonic() + 30
    while not _scalar("replica", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        if time.monotonic() > deadline:
            raise TimeoutError("the replica did not catch up in 30 s")
        time.sleep(0.05)


class _Selects:
    """Counts the SELECTs each database answered while it is open."""

    def __init__(self):
        self.counts = {"default": 0, "replica": 0}
        self._wrappers = []

    def _counter(self, alias: str):
        def wrapper(execute, sql, params, many, context):
            # The router's own lag probe (REPLICA_CHECK_SECONDS=0 here) is no read of the list.
            if sql.lstrip().upper().startswith("SELECT") and "pg_is_in_recovery" not in sql:
                self.counts[alias] += 1
            return execute(sql, params, many, context)
        return wrapper

    def __enter__(self):
        for alias in self.counts:
            wrapper = self._counter(alias)
            connections[alias].execute_wrappers.append(wrapper)
            self._wrappers.append((alias, wrapper))
        return self

    def __exit__(self, *exc):
        for alias, wrapper in self._wrappers:
            connections[alias].execute_wrappers.remove(wrapper)


def _list(client) -> dict:
    """The deals a client's list shows, which database answered its SELECTs, and whether it was pinned."""
    with _Selects() as selects:
        response = client.get("/api/v1/opportunities/")
    assert response.status_code == 200, response.content
    return {"names": sorted(row["name"] for row in response.json()["results"]), "selects": selects.counts,
            "sets_pin": bool(response.cookies.get(replicas.PIN_COOKIE))}


def main() -> dict:
    seen = {}
    rep = UserFactory(role="admin", email="replica.probe@test.example")
    old = OpportunityFactory(owner=rep, name="Written before the pause")
    client = Client()
    client.force_login(rep)
    _wait_replayed()
    _scalar("replica", "SELECT pg_wal_replay_pause()::text")

    OpportunityFactory(owner=rep, name="Written after the pause", account=old.account)
    seen["list"] = _list(client)

    created = client.post("/api/v1/opportunities/", {"account_id": old.account_id, "name": "Saved by the client",
                                                    "amount": "100"}, content_type="application/json")
    seen["create_status"] = created.status_code
    seen["create_sets_pin"] = bool(created.cookies.get(replicas.PIN_COOKIE))
    seen["list_after_write"] = _list(client)

    # Another client, not pinned, once the paused replica lags past the limit: the primary serves it.
    stranger = Client()
    stranger.force_login(rep)
    deadline = time.monotonic() + settings.REPLICA_MAX_LAG_SECONDS + 30
    while replicas.replica_lag_seconds() <= settings.REPLICA_MAX_LAG_SECONDS:
        if time.monotonic() > deadline:
            raise TimeoutError("the paused replica's lag did not pass the limit")
        time.sleep(0.2)
    seen["lag_when_paused"] = replicas.replica_lag_seconds()
    seen["list_when_lagging"] = _list(stranger)

    _scalar("replica", "SELECT pg_wal_replay_resume()::text")
    _wait_replayed()
    seen["lag_after_resume"] = replicas.replica_lag_seconds()
    seen["list_after_resume"] = _list(stranger)
    return seen


if __name__ == "__main__":
    print(json.dumps(main()))
