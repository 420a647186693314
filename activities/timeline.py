"""Timelines: a record's activities merged with the system's own history.

Activities import no higher app, so the history (stage changes, assignments,
conversions, score changes) comes from providers those apps register in their
`AppConfig.ready()`:

    register_history_provider("opportunity", stage_history_entries)

A provider is `fn(ids: list[int], before: datetime | None, limit: int) ->
list[TimelineEntry]`: the entries of those records at or before `before`
(all when None), newest first, at most `limit`. Give each entry a stable
`key` (e.g. "stagehistory:12") so pages never repeat or skip it.

Leads and opportunities keep a history, and each must have a provider:
using a timeline whose provider is missing is ImproperlyConfigured (and the
start-up check of activities.checks reports it), never a silently empty
section. An account's timeline includes the activities of its contacts and
deals that the viewer may see (their activities carry the account id) and
the history of its visible deals; a user's timeline is their activities. Pages are cursor-paginated over (time, activity-before-history, key)
newest first, and filterable by activity type ("history" selects the
system entries).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from activities import cursors, links
from activities.store import before_cursor, get_store
from salesapp.models import User
from salesapp.selectors import user_get

TIMELINE_KINDS = ("lead", "opportunity", "account", "user")
# The kinds whose own apps keep a history (stage changes, assignments, conversions, scores).
HISTORY_KINDS = ("lead", "opportunity")
ACTIVITY_RANK, HISTORY_RANK = 1, 0


@dataclass
class TimelineEntry:
    """One line of a timeline: an activity, or a history entry from another app."""

    time: datetime
    kind: str  # stage_changed, assigned, converted, score_changed... or the activity type
    title: str
    detail: str = ""
    actor: str = ""
    actor_id: int | None = None
    refs: dict = field(default_factory=dict)  # e.g. {"opportunity_id": 7}
    type: str = "history"  # "history" or "activity"
    key: str = ""
    activity: dict | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.time, ACTIVITY_RANK if self.type == "activity" else HISTORY_RANK, self.key)

    def as_dict(self) -> dict:
        return {
            "type": self.type,
            "kind": self.kind,
            "time": self.time.isoformat(),
            "title": self.title,
            "detail": self.detail,
            "actor": self.actor,
            "actor_id": self.actor_id,
            "refs": self.refs,
            "key": self.key,
            "activity": _activity_json(self.activity) if self.activity else None,
        }


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


HistoryProvider = Callable[[list[int], datetime | None, int], list[TimelineEntry]]
_providers: dict[str, list[HistoryProvider]] = defaultdict(list)


def register_history_provider(kind: str, fn: HistoryProvider) -> None:
    """Add system history for `kind` records (lead, opportunity)."""
    if kind not in HISTORY_KINDS:
        raise ValueError(f"unknown history kind {kind!r}; use one of {', '.join(HISTORY_KINDS)}")
    if fn not in _providers[kind]:
        _providers[kind].append(fn)


def unregister_history_provider(kind: str, fn: HistoryProvider) -> None:
    """Take a provider back (tests that add one of their own)."""
    _providers[kind].remove(fn)


def missing_history_kinds() -> list[str]:
    """The history kinds no app registered a provider for (each one a start-up error)."""
    return [k for k in HISTORY_KINDS if not _providers[k]]


def history_providers(kind: str) -> list[HistoryProvider]:
    """The providers of `kind` history (ImproperlyConfigured when its app registered none)."""
    if not _providers[kind]:
        raise ImproperlyConfigured(f"no app registered the {kind} history of timelines; call register_history_provider()")
    return list(_providers[kind])


def _activity_json(doc: dict) -> dict:
    out = dict(doc)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
    out["status"] = "done" if doc.get("completed_at") else "open"
    return out


def activity_entry(doc: dict) -> TimelineEntry:
    refs = {k: doc[k] for k in ("lead_id", "opportunity_id", "account_id", "contact_id") if doc.get(k) is not None}
    return TimelineEntry(
        time=doc["occurred_at"], kind=doc["type"], title=doc["subject"] or doc["type"].title(),
        detail=doc["description"], actor_id=doc["user_id"], refs=refs, type="activity",
        key=f"{doc['id']:012d}", activity=doc,
    )


def timeline_subject(*, user, kind: str, record_id) -> object:
    """The record (or user) a timeline is about, if the viewer may see it; 404 otherwise."""
    if kind not in TIMELINE_KINDS:
        raise Http404("No such timeline")
    if kind != "user":
        return links.record_get(user=user, kind=kind, record_id=record_id)
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        raise Http404("No such user") from None
    # A user's timeline is open to whoever may see the user: themselves, their managers, admins.
    return user_get(user=user, pk=record_id)


def timeline(*, user, kind: str, record_id, types=None, cursor: str | None = None, limit: int = 50) -> TimelinePage:
    """One page of a timeline, newest first (404 when the viewer may not see the record)."""
    timeline_subject(user=user, kind=kind, record_id=record_id)
    record_id = int(record_id)
    position = cursors.decode(cursor)
    limit = max(1, min(int(limit), 200))
    types = [t for t in (types or []) if t]
    want_history = not types or "history" in types
    activity_types = [t for t in types if t != "history"]
    want_activities = not types or bool(activity_types)

    items: list[TimelineEntry] = []
    cuts: list[tuple] = []
    if want_activities:
        conds = [links.access_cond(user), ("eq", f"{kind}_id", record_id)]
        if activity_types:
            conds.append(("in", "type", activity_types))
        if position:
            t, rank, key = position
            conds.append(before_cursor(t, int(key)) if rank == ACTIVITY_RANK else ("lt", "occurred_at", t))
        raw = get_store().find(("and", conds), limit=limit + 1)
        if len(raw) > limit:
            raw = raw[:limit]
            cuts.append(activity_entry(raw[-1]).sort_key)
        items.extend(activity_entry(doc) for doc in raw)
    if want_history:
        for provider_kind, ids in _history_sources(user, kind, record_id):
            for provider in history_providers(provider_kind):
                got = list(provider(ids, position[0] if position else None, limit + 1) or [])
                got = [e for e in got if not position or e.sort_key < position]
                got.sort(key=lambda e: e.sort_key, reverse=True)
                if len(got) > limit:
                    got = got[:limit]
                    cuts.append(got[-1].sort_key)
                items.extend(got)
    boundary = max(cuts) if cuts else None
    if boundary:
        items = [e for e in items if e.sort_key >= boundary]
    items.sort(key=lambda e: e.sort_key, reverse=True)
    page = items[:limit]
    last = page[-1].sort_key if len(items) > limit else boundary
    _name_actors(page)
    return TimelinePage(page, cursors.encode(*last) if last else None)


def _history_sources(user, kind: str, record_id: int) -> list[tuple[str, list[int]]]:
    """Whose history a timeline shows: a lead's or deal's own, an account's visible deals', a user's none."""
    if kind in HISTORY_KINDS:
        return [(kind, [record_id])]
    if kind == "account":
        deals = links.child_ids(user=user, kind="opportunity", parent_kind="account", parent_id=record_id)
        return [("opportunity", deals)] if deals else []
    return []


def _name_actors(entries: list[TimelineEntry]) -> None:
    ids = {e.actor_id for e in entries if e.actor_id and not e.actor}
    if not ids:
        return
    names = {u.pk: (u.get_full_name() or u.email) for u in User.objects.filter(pk__in=ids).only("first_name", "last_name", "email")}
    for e in entries:
        if e.actor_id and not e.actor:
            e.actor = names.get(e.actor_id, "")
