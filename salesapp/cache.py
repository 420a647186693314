"""The cache as only a cache: a Redis outage degrades the app, it never breaks it.

Every cache read and write of the apps goes through this module (`from salesapp import cache`):
- a cache error (Redis refused, cut, or silent past its socket timeout) is a miss: reads fall
  through to the database, writes are dropped, counters count in this process's memory;
- the first error of an outage is logged once, as an error, and its end once, as a warning; while
  it lasts the cache is asked again only every CACHE_RETRY_SECONDS, so a hung Redis costs one
  timeout per process per interval instead of one per call;
- an invalidation (a delete, a version bump) that could not reach the cache is replayed when the
  cache answers again, so this process's changes are not hidden by entries it failed to retire.

`/healthz` asks the cache itself (salesapp.health) and still answers 503 naming it: degrading is
not hiding. That is why django-redis's IGNORE_EXCEPTIONS is not used: it would swallow the error
in the health check too, and log every failed call.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache as _backend
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from salesapp.metrics import CACHE_FAILURES, CACHE_LATENCY

log = logging.getLogger("salesapp.cache")

# What a cache that is down, cut or hung raises (django-redis wraps most as ConnectionInterrupted).
CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)

# Process state: when the current outage began (None: the cache answers), when to ask it again,
# the invalidations it missed, and the counters kept here meanwhile.
_state: dict = {"down_since": None, "retry_at": 0.0, "missed": {}, "failures": 0}
_counters: dict[str, tuple[int, float]] = {}
COUNTERS_MAX = 100_000  # a bound on the fallback counters, pruned of expired windows when reached


class _Unavailable(Exception):
    """The cache failed, or is resting after a failure: the caller takes its fallback."""


def outage() -> dict | None:
    """The current outage as this process sees it ({"since": epoch seconds, "failures": n}), or None."""
    if _state["down_since"] is None:
        return None
    return {"since": _state["down_since"], "failures": _state["failures"]}


def forget_outage() -> None:
    """Start afresh, as a new process does: no outage, nothing missed, no counts kept here."""
    _state.update(down_since=None, retry_at=0.0, missed={}, failures=0)
    _counters.clear()


def _call(operation: Callable, *args, **kwargs):
    now = time.monotonic()
    if _state["down_since"] is not None and now < _state["retry_at"]:
        raise _Unavailable
    start = time.perf_counter()
    try:
        result = operation(*args, **kwargs)
    except CACHE_ERRORS as exc:
        CACHE_FAILURES.inc()
        _state["retry_at"] = time.monotonic() + settings.CACHE_RETRY_SECONDS
        _state["failures"] += 1
        if _state["down_since"] is None:
            _state["down_since"] = time.time()
            log.error("cache unreachable, running on the database and in-process counters until it answers: %s", exc)
        raise _Unavailable from exc
    finally:
        # Invalidations are replayable lambdas: timed as one kind of call.
        CACHE_LATENCY.labels(getattr(operation, "__name__", "call").replace("<lambda>", "invalidate")).observe(
            time.perf_counter() - start)
    if _state["down_since"] is not None:
        _recovered()
    return result


def _recovered() -> None:
    lasted = time.time() - _state["down_since"]
    missed, _state["missed"] = _state["missed"], {}
    _state.update(down_since=None, failures=0)
    log.warning("cache answers again after %.1f s; replaying %d missed invalidations", lasted, len(missed))
    for what, replay in missed.items():
        _invalidation(what, replay)  # a cache that fails again keeps the rest for its next return


def _invalidation(what: tuple, replay: Callable[[], None]) -> None:
    """Run an invalidation now, or keep it (once per key: replaying it twice changes nothing) for later."""
    try:
        _call(replay)
    except _Unavailable:
        _state["missed"][what] = replay


def get(key: str, default=None):
    """The cached value, or `default` when absent or the cache is unavailable."""
    try:
        return _call(_backend.get, key, default)
    except _Unavailable:
        return default


def set(key: str, value, timeout) -> None:  # the cache's own verb (this module uses no builtin set)
    """Store a value; dropped when the cache is unavailable (the next read recomputes it)."""
    try:
        _call(_backend.set, key, value, timeout)
    except _Unavailable:
        pass


def delete(key: str) -> None:
    """Forget a key; replayed when the cache answers again if it cannot be reached now."""
    _invalidation(("delete", key), lambda: _backend.delete(key))


def delete_many(keys) -> None:
    """Forget keys; replayed when the cache answers again if it cannot be reached now."""
    keys = sorted(keys)
    if keys:
        _invalidation(("delete", *keys), lambda: _backend.delete_many(keys))


def _fresh_version() -> int:
    # Microseconds since the epoch: a version counter that was evicted or flushed starts above
    # every value it had, so no entry stored under an old version is read again.
    return time.time_ns() // 1000


def version(key: str, timeout=None) -> int | str:
    """The current value of a version counter (entries carry it in their keys or bodies).

    An absent counter starts afresh (and lives `timeout` seconds, None: until evicted). While the
    cache is unavailable the answer is a value used once, so nothing cached under it is ever read back.
    """
    try:
        current = _call(_backend.get, key)
        if current is None:
            _call(_backend.add, key, _fresh_version(), timeout)
            current = _call(_backend.get, key)
        return current if current is not None else _fresh_version()
    except _Unavailable:
        return f"outage-{time.time_ns()}"


def version_bump(key: str) -> None:
    """Make every entry stored under the counter's current version stale."""

    def bump():
        try:
            _backend.incr(key)
        except ValueError:  # absent (never read, evicted or flushed): start it afresh
            _backend.add(key, _fresh_version(), None)

    _invalidation(("bump", key), bump)


def count(key: str, timeout: int) -> int:
    """Add one to a counter that lives `timeout` seconds from its first hit; the new count.

    Shared by every process through the cache (`incr` is atomic); while the cache is unavailable
    each process counts on its own.
    """
    try:
        _call(_backend.add, key, 0, timeout)
        try:
            return _call(_backend.incr, key)
        except ValueError:  # expired between add and incr
            _call(_backend.set, key, 1, timeout)
            return 1
    except _Unavailable:
        return _count_here(key, timeout)


def _count_here(key: str, timeout: int) -> int:
    now = time.monotonic()
    hits, expires = _counters.get(key, (0, now + timeout))
    if expires <= now:
        hits, expires = 0, now + timeout
    if len(_counters) >= COUNTERS_MAX:
        for stale in [k for k, (_, until) in _counters.items() if until <= now]:
            del _counters[stale]
    _counters[key] = (hits + 1, expires)
    return hits + 1
