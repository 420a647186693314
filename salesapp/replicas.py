"""Read replica: which database serves a read, and how far the replica lags.

Policy (one place; `salesapp.dbrouters.ReplicaRouter` only asks it):
- Reads go to the replica only within a GET/HEAD/OPTIONS request (lists, search on the database,
  dashboards, detail pages). Everything else reads the primary: unsafe requests, Celery tasks and
  consumers (an event may arrive before the replica replayed the change it announces), commands.
- Read-after-write: once a request wrote, its later reads go to the primary, and so do any reads inside
  a transaction on the primary. The response of a request that wrote carries a cookie pinning the
  client to the primary for `REPLICA_PIN_SECONDS` (default 5), so the page shown after a save is read
  from the primary. The cookie is not a credential: forging it only sends one's own reads to the primary.
- A replica lagging more than `REPLICA_MAX_LAG_SECONDS` (default 30), not in recovery, or not answering
  is out of rotation: reads go to the primary until it catches up (checked at most every
  `REPLICA_CHECK_SECONDS` per process). A replica out of rotation is logged as an error and its lag
  reads +Inf, which the replica-lag alert sees.
"""

from __future__ import annotations

import logging
import math
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "sales_primary_until"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE ", "COPY "})

log = logging.getLogger("salesapp.replicas")

# Behind the lag: 0 while the replica has replayed all it received (an idle primary sends nothing, so
# the time since the last replayed commit is not lag), else the age of the last commit it replayed.
_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END
"""


@dataclass
class _Request:
    """How the current request may read: from the replica at all, and whether it wrote yet."""

    may_use_replica: bool
    wrote: bool = False


_request: ContextVar[_Request | None] = ContextVar("sales_replica_request", default=None)
_rotation = {"checked_at": -math.inf, "in_rotation": False}


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag_seconds() -> float | None:
    """Seconds the replica is behind the primary (the `sales_db_replica_lag_seconds` gauge).

    None when no replica is configured; +Inf when it does not answer or is not a standby (it serves
    no reads then, and the error is logged).
    """
    if not replica_configured():
        return None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError:
        log.exception("replica does not answer: out of rotation")
        connections[REPLICA].close()
        return math.inf
    if not in_recovery:
        log.error("replica is not in recovery (promoted or misconfigured): out of rotation")
        return math.inf
    return math.inf if lag is None else float(lag)


def replica_in_rotation() -> bool:
    """Whether the replica may serve reads now: measured at most every REPLICA_CHECK_SECONDS."""
    now = time.monotonic()
    if now - _rotation["checked_at"] >= settings.REPLICA_CHECK_SECONDS:
        lag = replica_lag_seconds()
        in_rotation = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
        if not in_rotation and _rotation["in_rotation"]:
            log.error("replica lags %.1f s (limit %s s): reads go to the primary", lag,
                      settings.REPLICA_MAX_LAG_SECONDS)
        _rotation.update(checked_at=now, in_rotation=in_rotation)
    return _rotation["in_rotation"]


def read_alias() -> str:
    """The database a read goes to now (see the module's policy)."""
    state = _request.get()
    if state is None or not state.may_use_replica or state.wrote or connections[PRIMARY].in_atomic_block:
        return PRIMARY
    return REPLICA if replica_in_rotation() else PRIMARY


def _note_writes(state: _Request):
    """An execute wrapper on the primary: marks the request as having written once a statement changes rows.

    (The router's db_for_write is no such sign: Django asks it whenever a related object is assigned.)
    """

    def wrapper(execute, sql, params, many, context):
        if not state.wrote and sql.lstrip()[:6].upper() in _WRITES:
            state.wrote = True
        return execute(sql, params, many, context)

    return wrapper


def _pinned_until(request) -> float:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, "0"))
    except ValueError:
        return 0.0


class ReplicaRoutingMiddleware:
    """Marks the request's reads as replica-eligible or not, and pins a client that wrote to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = _Request(may_use_replica=request.method in _SAFE_METHODS and _pinned_until(request) <= time.time())
        token = _request.set(state)
        try:
            with connections[PRIMARY].execute_wrapper(_note_writes(state)):
                response = self.get_response(request)
        finally:
            _request.reset(token)
        if state.wrote:
            pin = settings.REPLICA_PIN_SECONDS
            response.set_cookie(PIN_COOKIE, f"{time.time() + pin:.3f}", max_age=math.ceil(pin), httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response
