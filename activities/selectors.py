"""Reads of activities, on whichever store the settings chose.

Selectors that serve a user (`activity_get`, `activity_list`, `my_tasks`,
`calendar_events`) filter in the store with the one access rule,
`activities.links.access_cond`. The counting selectors for quotas and
intelligence (`activity_counts`, `completed_activity_count`,
`activities_for`, `activity_summary`) are system reads, without a user, over ids the caller has
already scoped; they return plain values and serve no page directly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.http import Http404
from django.utils import timezone

from activities import cursors, links
from activities.store import before_cursor, get_store

MAX_PAGE = 200
STATUS_OPEN, STATUS_DONE = "open", "done"


def activity_get(*, user, activity_id) -> dict:
    """One activity the user may see; 404 otherwise."""
    try:
        activity_id = int(activity_id)
    except (TypeError, ValueError):
        raise Http404("No such activity") from None
    found = get_store().find(("and", [links.access_cond(user), ("eq", "id", activity_id)]), limit=1)
    if not found:
        raise Http404("No such activity")
    return found[0]


def filter_cond(filters: dict) -> list[tuple]:
    """Store conditions for the cleaned filters of ActivityFilter."""
    conds: list[tuple] = []
    if filters.get("type"):
        conds.append(("in", "type", list(filters["type"])))
    for name in ("lead", "opportunity", "account", "contact", "user"):
        if filters.get(name) is not None:
            conds.append(("eq", f"{name}_id", int(filters[name])))
    status = filters.get("status")
    if status == STATUS_OPEN:
        conds.append(("null", "completed_at", True))
    elif status == STATUS_DONE:
        conds.append(("null", "completed_at", False))
    if filters.get("since"):
        conds.append(("gte", "occurred_at", filters["since"]))
    if filters.get("until"):
        conds.append(("lt", "occurred_at", filters["until"]))
    if filters.get("due_before"):
        conds.append(("lt", "due_at", filters["due_before"]))
    return conds


def activity_list(*, user, filters: dict | None = None, cursor: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
    """A page of the activities the user may see, newest first, and the next cursor.

    Filtering by a record the user may not see answers 404, like its timeline.
    """
    filters = filters or {}
    for kind in links.KINDS:
        if filters.get(kind) is not None:
            links.record_get(user=user, kind=kind, record_id=filters[kind])
    limit = max(1, min(int(limit or 50), MAX_PAGE))
    conds = [links.access_cond(user), *filter_cond(filters)]
    position = cursors.decode(cursor)
    if position:
        conds.append(before_cursor(position[0], int(position[2])))
    docs = get_store().find(("and", conds), limit=limit + 1)
    next_cursor = None
    if len(docs) > limit:
        docs = docs[:limit]
        next_cursor = cursors.encode(docs[-1]["occurred_at"], 1, f"{docs[-1]['id']:012d}")
    return docs, next_cursor


def my_tasks(*, user, now: datetime | None = None, limit: int = 500) -> dict:
    """The user's open tasks: overdue, due today, upcoming, and without a due date.

    "Today" is the current day in the site's time zone. Meetings and demos
    still open appear under `meetings` by their scheduled time.
    """
    now = now or timezone.now()
    start_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    start_tomorrow = start_today + timedelta(days=1)
    store = get_store()
    open_mine = [links.access_cond(user), ("eq", "user_id", user.pk), ("null", "completed_at", True)]
    tasks = store.find(("and", [*open_mine, ("eq", "type", "task")]), order=(("due_at", 1), ("id", 1)), limit=limit)
    groups = {"overdue": [], "today": [], "upcoming": [], "no_due_date": [], "meetings": []}
    for doc in tasks:
        due = doc["due_at"]
        if due is None:
            groups["no_due_date"].append(doc)
        elif due < start_today:
            groups["overdue"].append(doc)
        elif due < start_tomorrow:
            groups["today"].append(doc)
        else:
            groups["upcoming"].append(doc)
    groups["no_due_date"].sort(key=lambda d: d["created_at"], reverse=True)
    groups["meetings"] = store.find(
        ("and", [*open_mine, ("in", "type", ["meeting", "demo"]), ("gte", "scheduled_at", start_today - timedelta(days=7))]),
        order=(("scheduled_at", 1), ("id", 1)), limit=100,
    )
    return groups


def calendar_events(*, user, since: datetime | None = None, limit: int = 2000) -> list[dict]:
    """The user's meetings and demos for their calendar feed (from 90 days back)."""
    since = since or (timezone.now() - timedelta(days=90))
    return get_store().find(
        ("and", [links.access_cond(user), ("eq", "user_id", user.pk), ("in", "type", ["meeting", "demo"]),
                 ("gte", "scheduled_at", since)]),
        order=(("scheduled_at", 1), ("id", 1)), limit=limit,
    )


# --- for quotas and intelligence -----------------------------------------------------------------


def _window(field: str, start, end) -> list[tuple]:
    conds = []
    if start is not None:
        conds.append(("gte", field, start))
    if end is not None:
        conds.append(("lt", field, end))
    return conds


def activity_counts(*, user_ids, start=None, end=None, types=None, completed_only: bool = False) -> dict[str, int]:
    """Activities of these users by type, in [start, end) of when they happened (a system read)."""
    conds = [("in", "user_id", list(user_ids)), *_window("occurred_at", start, end)]
    if types:
        conds.append(("in", "type", list(types)))
    if completed_only:
        conds.append(("null", "completed_at", False))
    return {k: v for k, v in get_store().count_by(("and", conds), "type").items() if k}


def completed_activity_count(*, user_ids, start=None, end=None, types=None) -> int:
    """How many activities these users completed in [start, end) (a system read)."""
    conds = [("in", "user_id", list(user_ids)), ("null", "completed_at", False), *_window("completed_at", start, end)]
    if types:
        conds.append(("in", "type", list(types)))
    return get_store().count(("and", conds))


def _link_field(kind: str) -> str:
    if kind not in ("lead", "opportunity", "account", "contact", "user"):
        raise ValueError(f"unknown kind {kind!r}")
    return f"{kind}_id"


SNAPSHOT_FIELDS = (
    "id", "type", "user_id", "lead_id", "opportunity_id", "account_id", "contact_id", "outcome",
    "duration_minutes", "scheduled_at", "completed_at", "due_at", "occurred_at", "created_at",
)


def activities_for(*, kind: str, ids, until: datetime | None = None, limit: int = 100_000) -> list[dict]:
    """The activities of these leads/opportunities/accounts/users as plain dicts, oldest first (a system read).

    With `until`, only what was known at that moment: activities created after
    it are left out, and a completion after it reads as still open (so
    features built for a past snapshot do not see the future).
    """
    conds = [("in", _link_field(kind), [int(i) for i in ids])]
    if until is not None:
        conds.append(("lte", "created_at", until))
    docs = get_store().find(("and", conds), order=(("occurred_at", 1), ("id", 1)), limit=limit)
    out = []
    for doc in docs:
        row = {f: doc.get(f) for f in SNAPSHOT_FIELDS}
        if until is not None and row["completed_at"] and row["completed_at"] > until:
            row["completed_at"] = None
            row["occurred_at"] = row["scheduled_at"] or row["created_at"]
        out.append(row)
    return out


def activity_summary(*, kind: str, ids, until: datetime, types, recent_since: datetime) -> dict[int, dict]:
    """Per record, activities by type and how many happened since `recent_since`: {id: {"counts", "recent"}}.

    Only what had happened and been logged by `until` counts; ids=None counts for every
    record of the kind. Grouped counts, for scoring many records at once: a system read for
    intelligence's training and scoring: the caller scopes ids.
    """
    field = _link_field(kind)
    scope = ("null", field, False) if ids is None else ("in", field, list(ids))
    known = [scope, ("lte", "occurred_at", until), ("lte", "created_at", until)]
    store = get_store()
    out: dict[int, dict] = defaultdict(lambda: {"counts": {}, "recent": 0})
    for typ in types:
        for rid, n in store.count_by(("and", [*known, ("eq", "type", typ)]), field).items():
            out[rid]["counts"][typ] = n
    for rid, n in store.count_by(("and", [*known, ("gte", "occurred_at", recent_since)]), field).items():
        out[rid]["recent"] = n
    return dict(out)
