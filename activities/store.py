"""The activity store: one small interface, two backends, chosen by settings.

`get_store()` answers the SQL backend (the `Activity` model, the embedded
default) when `settings.MONGODB_URI` is empty, and the MongoDB backend
(pymongo, database `settings.MONGODB_DATABASE`) when it is set. Both keep the
same plain documents (`FIELDS`), with integer ids, times in UTC truncated to
milliseconds (MongoDB's precision), and the timeline indexes: by lead,
opportunity, account and user, newest first.

Queries are written once in a tiny condition language and translated by each
backend:

    ("eq", field, value)      ("in", field, values)     ("null", field, True|False)
    ("lt"|"lte"|"gt"|"gte", field, value)
    ("and", [cond, ...])      ("or", [cond, ...])       ("all",)

A configured MongoDB that is down is an error (pymongo raises), never a
silent fallback to SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pymongo
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from activities.models import Activity

FIELDS = (
    "id", "type", "subject", "description", "lead_id", "opportunity_id", "account_id", "contact_id",
    "user_id", "created_by_id", "outcome", "duration_minutes", "scheduled_at", "completed_at", "due_at",
    "occurred_at", "participants", "metadata", "created_at", "updated_at", "external_id",
)
DATETIME_FIELDS = ("scheduled_at", "completed_at", "due_at", "occurred_at", "created_at", "updated_at")
LINK_FIELDS = ("lead_id", "opportunity_id", "account_id", "contact_id")
NEWEST_FIRST = (("occurred_at", -1), ("id", -1))
# (name, key fields): the indexes a timeline and "My tasks" need, on both backends.
INDEXES = (
    ("activity_lead_timeline", (("lead_id", 1), ("occurred_at", -1), ("id", -1))),
    ("activity_opportunity_timeline", (("opportunity_id", 1), ("occurred_at", -1), ("id", -1))),
    ("activity_account_timeline", (("account_id", 1), ("occurred_at", -1), ("id", -1))),
    ("activity_user_timeline", (("user_id", 1), ("occurred_at", -1), ("id", -1))),
    ("activity_timeline", (("occurred_at", -1), ("id", -1))),
    ("activity_user_open", (("user_id", 1), ("completed_at", 1), ("due_at", 1))),
)


def before_cursor(occurred_at: datetime, activity_id: int) -> tuple:
    """The condition for rows strictly after (older than) a (time, id) position."""
    return ("or", [("lt", "occurred_at", occurred_at), ("and", [("eq", "occurred_at", occurred_at), ("lt", "id", activity_id)])])


def cond_q(cond: tuple) -> Q:
    """The Django Q meaning the same as a store condition (the SQL translation of the condition language)."""
    op = cond[0]
    if op == "all":
        return Q()
    if op in ("and", "or"):
        parts = [cond_q(c) for c in cond[1]]
        if not parts:
            return Q() if op == "and" else Q(pk__in=[])
        q = parts[0]
        for part in parts[1:]:
            q = (q & part) if op == "and" else (q | part)
        return q
    field = "pk" if cond[1] == "id" else cond[1]
    value = cond[2]
    if op == "eq":
        return Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})
    if op == "in":
        return Q(**{f"{field}__in": value if isinstance(value, QuerySet) else list(value)})
    if op == "null":
        return Q(**{f"{field}__isnull": bool(value)})
    if op in ("lt", "lte", "gt", "gte"):
        return Q(**{f"{field}__{op}": value})
    raise ValueError(f"unknown condition {op!r}")


Announce = Callable[[dict], None]


class ActivityStore:
    """What every backend offers. Documents are plain dicts with the keys in FIELDS.

    Each single write takes `announce(doc)`: what must exist if and only if the
    write does (the event's outbox row and the audit entry, written in the
    caller's database transaction). The SQL store writes its row first and then
    announces, so both commit or roll back together; the MongoDB store announces
    first and writes the document as the last step, so a failed write raises and
    rolls the announcement back.
    """

    name = "abstract"

    def insert(self, doc: dict, *, announce: Announce) -> dict:
        raise NotImplementedError

    def insert_many(self, docs: list[dict]) -> list[dict]:
        """Load documents as they are, announcing nothing (benchmarks and generated history)."""
        raise NotImplementedError

    def get(self, activity_id: int) -> dict | None:
        raise NotImplementedError

    def update(self, activity_id: int, changes: dict, *, announce: Announce) -> dict | None:
        raise NotImplementedError

    def delete(self, activity_id: int, *, announce: Announce) -> bool:
        raise NotImplementedError

    def find(self, cond: tuple = ("all",), *, order: Iterable[tuple[str, int]] = NEWEST_FIRST, limit: int = 50) -> list[dict]:
        raise NotImplementedError

    def count(self, cond: tuple = ("all",)) -> int:
        raise NotImplementedError

    def count_by(self, cond: tuple, field: str) -> dict:
        raise NotImplementedError

    def ensure_indexes(self) -> list[str]:
        raise NotImplementedError

    def index_names(self) -> list[str]:
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every activity (tests and benchmarks only)."""
        raise NotImplementedError


# --- SQL ------------------------------------------------------------------------------------------


class SqlActivityStore(ActivityStore):
    """Activities as rows of `activities.Activity` in the project's database."""

    name = "sql"

    model = Activity

    def _qs(self, cond):
        return self.model.objects.filter(cond_q(cond))

    def insert(self, doc: dict, *, announce: Announce) -> dict:
        row = self.model(**{("pk" if k == "id" else k): v for k, v in doc.items() if k != "id" or v})
        row.save(force_insert=True)
        saved = self.get(row.pk)
        announce(saved)
        return saved

    def insert_many(self, docs: list[dict]) -> list[dict]:
        rows = self.model.objects.bulk_create(
            [self.model(**{k: v for k, v in doc.items() if k != "id"}) for doc in docs], batch_size=1000
        )
        if rows and rows[0].pk is None:  # backends that do not return ids
            return docs
        return [{**doc, "id": row.pk} for doc, row in zip(docs, rows, strict=True)]

    def get(self, activity_id: int) -> dict | None:
        row = self.model.objects.filter(pk=activity_id).values(*self._columns()).first()
        return self._plain(row) if row else None

    def _columns(self):
        return [("pk" if f == "id" else f) for f in FIELDS]

    def _plain(self, row: dict) -> dict:
        row["id"] = row.pop("pk")
        return row

    def update(self, activity_id: int, changes: dict, *, announce: Announce) -> dict | None:
        if not self.model.objects.filter(pk=activity_id).update(**changes):
            return None
        saved = self.get(activity_id)
        announce(saved)
        return saved

    def delete(self, activity_id: int, *, announce: Announce) -> bool:
        doc = self.get(activity_id)
        if doc is None:
            return False
        self.model.objects.filter(pk=activity_id).delete()
        announce(doc)
        return True

    def find(self, cond=("all",), *, order=NEWEST_FIRST, limit=50):
        ordering = [("-" if d < 0 else "") + ("pk" if f == "id" else f) for f, d in order]
        qs = self._qs(cond).order_by(*ordering).values(*self._columns())
        return [self._plain(r) for r in (qs[:limit] if limit else qs)]

    def count(self, cond=("all",)) -> int:
        return self._qs(cond).count()

    def count_by(self, cond, field) -> dict:
        rows = self._qs(cond).order_by().values(field).annotate(n=Count("pk"))
        return {r[field]: r["n"] for r in rows}

    def ensure_indexes(self) -> list[str]:
        return self.index_names()  # created by the migration

    def index_names(self) -> list[str]:
        return [i.name for i in self.model._meta.indexes]

    def clear(self) -> None:
        self.model.objects.all().delete()


# --- MongoDB --------------------------------------------------------------------------------------


class _LostRace(Exception):
    """Another writer changed the document between our read and our swap."""


class MongoActivityStore(ActivityStore):
    """Activities as documents in MongoDB's `activities` collection (pymongo).

    Ids are integers from a counter document, so URLs, events and other apps'
    references look the same on both backends. `_id` and `id` both hold it: the
    compound timeline indexes use `id` as their tie-breaker.
    """

    name = "mongodb"
    collection_name = "activities"

    def __init__(self, uri: str, database: str, *, server_selection_timeout_ms: int = 5000):
        self.client = pymongo.MongoClient(uri, tz_aware=True, tzinfo=UTC, serverSelectionTimeoutMS=server_selection_timeout_ms)
        self.db = self.client[database]
        self.collection = self.db[self.collection_name]
        self.counters = self.db["activity_counters"]

    def close(self) -> None:
        self.client.close()

    def _filter(self, cond: tuple) -> dict:
        op = cond[0]
        if op == "all":
            return {}
        if op in ("and", "or"):
            parts = [p for p in (self._filter(c) for c in cond[1]) if p or op == "or"]
            if not parts:
                return {} if op == "and" else {"_id": {"$in": []}}
            if len(parts) == 1:
                return parts[0]
            if op == "and":
                keys = [k for p in parts for k in p]
                if len(keys) == len(set(keys)) and not any(k.startswith("$") for k in keys):
                    return {k: v for p in parts for k, v in p.items()}  # plain fields: one implicit AND
            # Otherwise explicit $and/$or: a top-level field beside $or is mishandled by nx-27017.
            return {f"${op}": parts}
        field, value = cond[1], cond[2]
        if op == "eq":
            # {"f": None} inside $and/$or matches nothing on nx-27017; {"$eq": None} works everywhere.
            return {field: {"$eq": None}} if value is None else {field: value}
        if op == "in":
            if isinstance(value, QuerySet):  # a subquery of record ids: MongoDB needs the ids themselves
                value = list(value.values_list("pk", flat=True))
            return {field: {"$in": list(value)}}
        if op == "null":
            return {field: {"$eq": None}} if value else {field: {"$ne": None}}
        if op in ("lt", "lte", "gt", "gte"):
            return {field: {f"${op}": value}}
        raise ValueError(f"unknown condition {op!r}")

    def _plain(self, doc: dict | None) -> dict | None:
        if doc is None:
            return None
        out = {f: doc.get(f) for f in FIELDS}
        out["id"] = doc["_id"]
        out["participants"] = list(out["participants"] or [])
        out["metadata"] = dict(out["metadata"] or {})
        return out

    def _next_ids(self, n: int = 1) -> int:
        """Reserve `n` ids atomically; answers the last one."""
        counter = self.counters.find_one_and_update(
            {"_id": "activities"}, {"$inc": {"seq": n}}, upsert=True,
            return_document=pymongo.ReturnDocument.AFTER,
        )
        return int(counter["seq"])

    def _doc(self, doc: dict, activity_id: int) -> dict:
        body = {f: doc.get(f) for f in FIELDS}
        body.update(_id=activity_id, id=activity_id)
        body["participants"] = list(body["participants"] or [])
        body["metadata"] = dict(body["metadata"] or {})
        return body

    def insert(self, doc: dict, *, announce: Announce) -> dict:
        activity_id = doc.get("id") or self._next_ids()
        body = self._doc(doc, activity_id)
        saved = self._plain(body)
        announce(saved)
        self.collection.insert_one(body)
        return saved

    def insert_many(self, docs: list[dict]) -> list[dict]:
        if not docs:
            return []
        last = self._next_ids(len(docs))
        bodies = [self._doc(doc, last - len(docs) + 1 + i) for i, doc in enumerate(docs)]
        self.collection.insert_many(bodies, ordered=True)
        return [self._plain(b) for b in bodies]

    def get(self, activity_id: int) -> dict | None:
        return self._plain(self.collection.find_one({"_id": int(activity_id)}))

    def update(self, activity_id: int, changes: dict, *, announce: Announce) -> dict | None:
        # Read, merge, compare-and-swap on updated_at: a whole-document replace keeps
        # BSON dates (nx-27017 stores a `$set` datetime as text), and the swap makes
        # concurrent writers retry instead of overwriting each other. Each attempt
        # announces inside a savepoint, so an attempt that loses the race takes its
        # announcement back.
        for _ in range(5):
            current = self.collection.find_one({"_id": int(activity_id)})
            if current is None:
                return None
            body = {**current, **{k: v for k, v in changes.items() if k not in ("id", "_id")}}
            try:
                with transaction.atomic():
                    announce(self._plain(body))
                    swap = {"_id": current["_id"], "updated_at": current.get("updated_at")}
                    if not self.collection.replace_one(swap, body).matched_count:
                        raise _LostRace
            except _LostRace:
                continue
            return self._plain(body)
        raise RuntimeError(f"activity {activity_id} kept changing under a concurrent update")

    def delete(self, activity_id: int, *, announce: Announce) -> bool:
        doc = self.get(activity_id)
        if doc is None:
            return False
        announce(doc)
        return self.collection.delete_one({"_id": int(activity_id)}).deleted_count == 1

    def find(self, cond=("all",), *, order=NEWEST_FIRST, limit=50):
        cursor = self.collection.find(self._filter(cond)).sort(list(order))
        if limit:
            cursor = cursor.limit(limit)
        return [self._plain(d) for d in cursor]

    def count(self, cond=("all",)) -> int:
        return self.collection.count_documents(self._filter(cond))

    def count_by(self, cond, field) -> dict:
        # The same filter under an explicit $and: nx-27017 (the test stand-in) otherwise matches nothing in an
        # aggregation for a top-level $lte on a date; MongoDB reads both forms alike.
        match = {"$and": [self._filter(cond)]}
        rows = self.collection.aggregate([{"$match": match}, {"$group": {"_id": f"${field}", "n": {"$sum": 1}}}])
        return {r["_id"]: r["n"] for r in rows}

    def ensure_indexes(self) -> list[str]:
        for name, keys in INDEXES:
            self.collection.create_index(list(keys), name=name)
        return self.index_names()

    def index_names(self) -> list[str]:
        return sorted(self.collection.index_information())

    def index_keys(self) -> list[list[str]]:
        """The key fields of each index (names differ between servers; keys do not)."""
        return [[k for k, _ in info["key"]] for info in self.collection.index_information().values()]

    def clear(self) -> None:
        self.collection.delete_many({})


# --- choosing one ---------------------------------------------------------------------------------

_lock = threading.Lock()
_stores: dict[tuple, ActivityStore] = {}


def get_store() -> ActivityStore:
    """The backend the settings choose; MongoDB stores are made (and indexed) once per URI."""
    uri = settings.MONGODB_URI
    if not uri:
        key = ("sql",)
    else:
        key = ("mongodb", uri, settings.MONGODB_DATABASE)
    store = _stores.get(key)
    if store is None:
        with _lock:
            store = _stores.get(key)
            if store is None:
                store = SqlActivityStore() if not uri else MongoActivityStore(uri, settings.MONGODB_DATABASE)
                if uri:
                    store.ensure_indexes()
                _stores[key] = store
    return store


def forget_stores() -> None:
    """Close and drop cached MongoDB clients (tests that stop their server)."""
    with _lock:
        for store in _stores.values():
            if isinstance(store, MongoActivityStore):
                store.close()
        _stores.clear()


def now_ms() -> datetime:
    return to_ms(timezone.now())


def to_ms(value: datetime | None) -> datetime | None:
    """Truncate to milliseconds in UTC, the precision both backends keep."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)
