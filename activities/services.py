"""Writes: log, change, complete and delete activities; rotate calendar links.

Each service takes the acting user, validates first (every error names its
field), and writes through the activity store, which announces the write in
the same database transaction: `activity.logged` when an activity is logged,
`activity.completed` when an open one is done, and an audit entry for every
create, change and delete (salesapp.audit, on both stores). On MongoDB the
document write is the last step inside that transaction, so an event exists
if and only if the activity does (barring a crash between the two commits).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from activities import links, selectors
from activities.models import Activity, ActivityType
from activities.store import get_store, now_ms, to_ms
from salesapp.access import CHANGE, DELETE
from salesapp.assignment import assignee_check
from salesapp.audit import audit_bulk
from salesapp.backends import users_changed
from salesapp.events import publish
from salesapp.guards import require_permission
from salesapp.models import User
from salesapp.privacy import redact
from salesapp.roles import Role

log = logging.getLogger(__name__)

TYPES = tuple(ActivityType.values)
SCHEDULED_TYPES = ("meeting", "demo")
METADATA_TYPES = {"email_opened": bool, "email_clicked": bool, "call_recording_url": str, "meeting_notes": str}
MAX_PARTICIPANTS = 100
EDITABLE = (
    "type", "subject", "description", "lead_id", "opportunity_id", "account_id", "contact_id", "user_id", "outcome",
    "duration_minutes", "scheduled_at", "completed_at", "due_at", "participants", "metadata",
)


def _when(field: str, value, errors: dict) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            errors[field] = ["Enter a date and time."]
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors[field] = ["Enter a date and time."]
        return None
    if value.tzinfo is None:
        errors[field] = ["Give the time zone (e.g. 2026-01-31T14:00:00Z)."]
        return None
    return to_ms(value)


def _participants(value, errors: dict) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if not isinstance(value, (list, tuple)):
        errors["participants"] = ["Give a list of participants."]
        return []
    out = []
    for item in value:
        if isinstance(item, str) and item.strip():
            out.append(item.strip()[:254])
        elif isinstance(item, dict) and any(item.get(k) for k in ("email", "name", "contact_id")):
            out.append({k: item[k] for k in ("email", "name", "contact_id") if item.get(k) not in (None, "")})
        else:
            errors["participants"] = ["Each participant is a name or email, or an object with email, name or contact_id."]
            return []
    if len(out) > MAX_PARTICIPANTS:
        errors["participants"] = [f"At most {MAX_PARTICIPANTS} participants."]
    return out


def _metadata(value, errors: dict) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors["metadata"] = ["Give an object, e.g. {\"email_opened\": true}."]
        return {}
    for key, expected in METADATA_TYPES.items():
        if key in value and value[key] is not None and not isinstance(value[key], expected):
            errors["metadata"] = [f"{key} must be {'true or false' if expected is bool else 'text'}."]
    return dict(value)


def _owner(actor, data: dict, existing: dict | None, errors: dict, memo: dict) -> int:
    """Whose activity it is (`user_id`): the actor unless they pick someone.

    A pick the actor gives, or a change of owner, is judged by the kernel's
    assignment policy (salesapp.assignment); an owner left as it is is not.
    """
    if existing is not None and "user_id" not in data:
        return existing["user_id"]
    given = data.get("user_id")
    if given in (None, ""):
        return actor.pk
    try:
        user_id = int(given)
    except (TypeError, ValueError):
        errors["user_id"] = ["Enter a user id."]
        return actor.pk
    if existing is not None and user_id == existing["user_id"]:
        return user_id
    if ("owner", user_id) not in memo:
        memo[("owner", user_id)] = _owner_problem(actor, user_id)
    errors.update(memo[("owner", user_id)])
    return user_id


def _owner_problem(actor, user_id: int) -> dict:
    """Why `actor` may not give an activity to that user ({} when they may)."""
    assignee = User.objects.filter(pk=user_id).first()
    if assignee is None:
        return {"user_id": [f"No user with id {user_id}."]}
    try:
        assignee_check(actor=actor, assignee=assignee, field="user_id")
    except ValidationError as exc:
        return exc.message_dict
    return {}


def _validate(actor, data: dict, *, existing: dict | None = None, memo: dict | None = None) -> dict:
    """The full, checked document (without id) from `data`, over `existing` when changing.

    `memo` keeps the owner checks and linked records looked up, across many documents of one actor (imports).
    """
    memo = {} if memo is None else memo
    errors: dict[str, list[str]] = {}
    doc = dict(existing or {})
    doc.update(data)

    kind = doc.get("type")
    if kind not in TYPES:
        errors["type"] = [f"Unknown activity type {kind!r}; use one of {', '.join(TYPES)}."]
    subject = (doc.get("subject") or "").strip()
    if len(subject) > 255:
        errors["subject"] = ["At most 255 characters."]
    duration = doc.get("duration_minutes")
    if duration in ("",):
        duration = None
    if duration is not None:
        try:
            duration = int(duration)
        except (TypeError, ValueError):
            errors["duration_minutes"] = ["Enter a whole number of minutes."]
            duration = None
        else:
            if duration < 0:
                errors["duration_minutes"] = ["The duration cannot be negative."]
    times = {f: _when(f, doc.get(f), errors) for f in ("scheduled_at", "completed_at", "due_at", "created_at")}
    if times["scheduled_at"] and times["completed_at"] and times["completed_at"] < times["scheduled_at"]:
        errors["completed_at"] = ["An activity cannot be completed before it was scheduled."]
    if kind in SCHEDULED_TYPES and not times["scheduled_at"]:
        errors["scheduled_at"] = [f"Give the time the {kind} is scheduled for."]
    if existing is None and data.get("created_at") not in (None, "") and actor.role != Role.ADMIN:
        errors["created_at"] = ["Only admins may record original timestamps (imports of history)."]
    participants = _participants(doc.get("participants"), errors)
    metadata = _metadata(doc.get("metadata"), errors)
    if existing is not None and isinstance(data.get("metadata"), dict):
        metadata = {**(existing.get("metadata") or {}), **metadata}  # flags arrive one at a time
    user_id = _owner(actor, data, existing, errors, memo)
    link_input = {f"{k}_id": doc.get(f"{k}_id") for k in links.KINDS}
    if existing is not None and not any(f"{k}_id" in data for k in links.KINDS):
        filled = {k: existing.get(k) for k in link_input}
    else:
        try:
            filled = links.fill_links(user=actor, given=link_input, memo=memo)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
            filled = link_input
    if errors:
        raise ValidationError(errors)

    now = now_ms()
    created_at = times["created_at"] or (existing or {}).get("created_at") or now
    completed_at = times["completed_at"]
    if existing is None and completed_at is None and kind in ("call", "email") and not times["scheduled_at"]:
        completed_at = created_at  # a logged call or email has happened
    out = {
        "type": kind,
        "subject": subject,
        "description": doc.get("description") or "",
        **filled,
        "user_id": user_id,
        "created_by_id": (existing or {}).get("created_by_id", actor.pk),
        "outcome": (doc.get("outcome") or "")[:100],
        "duration_minutes": duration,
        "scheduled_at": times["scheduled_at"],
        "completed_at": completed_at,
        "due_at": times["due_at"],
        "participants": participants,
        "metadata": metadata,
        "created_at": created_at,
        "updated_at": now if existing is not None else created_at,
    }
    out["occurred_at"] = out["completed_at"] or out["scheduled_at"] or out["created_at"]
    return out


def activities_import(*, actor, docs: list[dict]) -> tuple[int, int]:
    """Load checked activity documents in bulk with their own times: one insert, one audit write and one
    `activity.imported` for the batch. A document whose external id is already stored is
    left as it is and counted as updated (a re-import). Answers (created, updated)."""
    require_permission(actor, "activity:write")
    store = get_store()
    ids = [d["external_id"] for d in docs if d.get("external_id")]
    known = {d["external_id"] for d in store.find(("in", "external_id", ids), limit=0)} if ids else set()
    fresh = [d for d in docs if not d.get("external_id") or d["external_id"] not in known]
    with transaction.atomic():
        saved = store.insert_many(fresh)
        audit_bulk(Activity, {d["id"]: {f: ["None", str(d.get(f))] for f in ("type", "occurred_at")} for d in saved},
                   action=LogEntry.Action.CREATE, actor=actor)
        if saved:
            publish("activity.imported", _imported_payload(saved), actor=actor)
    return len(saved), len(docs) - len(fresh)


def _imported_payload(docs: list[dict]) -> dict:
    """What consumers of a batch need: the ids, the records touched and the latest time on each."""
    latest: dict[str, dict[int, datetime]] = {"opportunity_id": {}, "account_id": {}, "lead_id": {}}
    counts: dict[int, int] = {}
    for doc in docs:
        for field, seen in latest.items():
            if doc[field] and (doc[field] not in seen or doc["occurred_at"] > seen[doc[field]]):
                seen[doc[field]] = doc["occurred_at"]
        if doc["lead_id"]:
            counts[doc["lead_id"]] = counts.get(doc["lead_id"], 0) + 1
    return {
        "activity_ids": [d["id"] for d in docs],
        "lead_ids": sorted(counts),
        "lead_counts": [[pk, n, latest["lead_id"][pk].isoformat()] for pk, n in counts.items()],
        "opportunity_last": [[pk, when.isoformat()] for pk, when in latest["opportunity_id"].items()],
        "account_last": [[pk, when.isoformat()] for pk, when in latest["account_id"].items()],
        "user_ids": sorted({d["user_id"] for d in docs}),
    }


def validate_activity(*, actor, data: dict, memo: dict | None = None) -> dict:
    """Check a new activity without writing it (imports validate every row first, sharing one `memo`)."""
    require_permission(actor, "activity:write")
    return _validate(actor, data, memo=memo)


def _payload(doc: dict) -> dict:
    return {
        "activity_id": doc["id"],
        "type": doc["type"],
        "lead_id": doc["lead_id"],
        "opportunity_id": doc["opportunity_id"],
        "account_id": doc["account_id"],
        "contact_id": doc["contact_id"],
        "user_id": doc["user_id"],
        "occurred_at": doc["occurred_at"].isoformat(),
        "completed_at": doc["completed_at"].isoformat() if doc["completed_at"] else None,
    }


def _audit(actor, action: int, before: dict, after: dict) -> None:
    """One audit entry for one activity: the fields whose values changed, as [old, new] text."""
    doc = after or before
    diff = {f: [str(before.get(f)), str(after.get(f))] for f in {*before, *after} - {"id"}
            if before.get(f) != after.get(f)}
    audit_bulk(Activity, {doc["id"]: diff}, action=action, actor=actor)


def activity_log(
    *, actor, type: str, subject: str = "", description: str = "", lead_id=None, opportunity_id=None,
    account_id=None, contact_id=None, user_id=None, outcome: str = "", duration_minutes=None, scheduled_at=None,
    completed_at=None, due_at=None, participants=(), metadata=None, created_at=None,
) -> dict:
    """Log an activity and publish `activity.logged`; answers the stored document.

    A call or email without a scheduled time is logged as done now (or at
    `created_at`); meetings and demos need a scheduled time; tasks stay open
    until completed. `created_at` (original timestamps, for imports) is for
    admins only.
    """
    require_permission(actor, "activity:write")
    doc = _validate(actor, {
        "type": type, "subject": subject, "description": description, "lead_id": lead_id,
        "opportunity_id": opportunity_id, "account_id": account_id, "contact_id": contact_id, "user_id": user_id,
        "outcome": outcome, "duration_minutes": duration_minutes, "scheduled_at": scheduled_at,
        "completed_at": completed_at, "due_at": due_at, "participants": list(participants or ()),
        "metadata": metadata, "created_at": created_at,
    })

    def announce(saved: dict) -> None:
        publish("activity.logged", _payload(saved), actor=actor)
        _audit(actor, LogEntry.Action.CREATE, {}, saved)

    with transaction.atomic():
        doc = get_store().insert(doc, announce=announce)
    log.info("activity %s (%s) logged by user %s", doc["id"], doc["type"], actor.pk)
    return doc


def _activity_for(*, actor, activity_id, action: str) -> dict:
    """The activity if the actor may do `action` on it: 404 when they may not see it, 403 when they see it only."""
    doc = selectors.activity_get(user=actor, activity_id=activity_id)
    require_permission(actor, "activity:write")
    if not get_store().find(("and", [links.access_cond(actor, action), ("eq", "id", doc["id"])]), limit=1):
        raise PermissionDenied(f"You may not {action} this activity.")
    return doc


def _change(*, actor, existing: dict, changes: dict) -> dict:
    """Write `changes`, auditing them and publishing `activity.updated` (and `activity.completed` when an open
    activity is done)."""

    def announce(saved: dict) -> None:
        publish("activity.updated", {**_payload(saved), "fields": _changed_fields(existing, saved)}, actor=actor)
        if existing["completed_at"] is None and saved["completed_at"] is not None:
            publish("activity.completed", _payload(saved), actor=actor)
        _audit(actor, LogEntry.Action.UPDATE, existing, saved)

    with transaction.atomic():
        return get_store().update(existing["id"], changes, announce=announce)


def activity_update(*, actor, activity_id, **changes) -> dict:
    """Change an activity; `metadata` keys merge (email opened/clicked flags arrive later).

    Setting `completed_at` on an open activity completes it and publishes
    `activity.completed`.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({unknown[0]: ["This field cannot be changed."]})
    existing = _activity_for(actor=actor, activity_id=activity_id, action=CHANGE)
    doc = _validate(actor, changes, existing=existing)
    changed = {k: v for k, v in doc.items() if k not in ("created_at", "created_by_id", "updated_at") and v != existing[k]}
    if not changed:
        return existing  # nothing to write, audit or announce
    return _change(actor=actor, existing=existing, changes={**changed, "updated_at": doc["updated_at"]})


def activity_complete(*, actor, activity_id, outcome: str | None = None, completed_at=None) -> dict:
    """Mark a task, meeting, demo (or planned call) done now and publish `activity.completed`."""
    existing = _activity_for(actor=actor, activity_id=activity_id, action=CHANGE)
    if existing["completed_at"] is not None:
        raise ValidationError({"completed_at": ["This activity is already completed."]})
    errors: dict = {}
    when = _when("completed_at", completed_at, errors) or now_ms()
    if errors:
        raise ValidationError(errors)
    if existing["scheduled_at"] and when < existing["scheduled_at"]:
        raise ValidationError({"completed_at": ["An activity cannot be completed before it was scheduled."]})
    changes = {"completed_at": when, "occurred_at": when, "updated_at": now_ms()}
    if outcome:
        changes["outcome"] = outcome[:100]
    updated = _change(actor=actor, existing=existing, changes=changes)
    log.info("activity %s completed by user %s", updated["id"], actor.pk)
    return updated


def activity_delete(*, actor, activity_id) -> None:
    """Delete an activity: admins, its author, its owner and the owner's managers may (links.access_cond)."""
    doc = _activity_for(actor=actor, activity_id=activity_id, action=DELETE)
    with transaction.atomic():
        get_store().delete(doc["id"], announce=lambda gone: _announce_delete(actor, gone))
    log.info("activity %s deleted by user %s", doc["id"], actor.pk)


def _announce_delete(actor, gone: dict) -> None:
    publish("activity.deleted", _payload(gone), actor=actor)
    _audit(actor, LogEntry.Action.DELETE, gone, {})


def _changed_fields(before: dict, after: dict) -> list[str]:
    """The fields an update changed, as an `activity.updated` event names them (not the bookkeeping time)."""
    return sorted(f for f in {*before, *after} - {"id", "updated_at"} if before.get(f) != after.get(f))


def _announce_relink(saved: dict, before: dict) -> None:
    publish("activity.updated", {**_payload(saved), "fields": _changed_fields(before, saved)})
    _audit(None, LogEntry.Action.UPDATE, before, saved)


def calendar_token_rotate(*, actor) -> str:
    """Give the user a new secret calendar-feed token; the old feed URL stops working at once."""
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=actor.pk).update(calendar_token=token)
    users_changed()  # an update() sends no signal: cached users would show the old feed
    actor.calendar_token = token
    log.info("calendar feed token rotated for user %s", actor.pk)
    return token


def calendar_token_ensure(*, actor) -> str:
    return actor.calendar_token or calendar_token_rotate(actor=actor)


def activities_relink(*, kind: str, from_id: int, to_id: int) -> int:
    """Move every activity linked to one record onto another (after a merge).

    Merging two leads keeps every activity: the merged lead's activities join
    the surviving lead's timeline.
    """
    if kind not in links.KINDS:
        raise ValueError(f"cannot relink activities of {kind!r}")
    field = f"{kind}_id"
    store = get_store()
    moved = 0
    while batch := store.find(("eq", field, from_id), limit=500):
        with transaction.atomic():
            for doc in batch:
                store.update(doc["id"], {field: to_id, "updated_at": now_ms()},
                             announce=lambda saved, before=doc: _announce_relink(saved, before))
        moved += len(batch)
    return moved


def activities_erase(*, actor, activity_ids) -> int:
    """Delete these activities for good, as a data subject's erasure (actor: the admin) or retention (None) asks.

    System work on records chosen by the kernel's request or policy, not by a user's view: no per-record
    access check. Each delete publishes activity.deleted and is audited, like a delete by hand.
    """
    if actor is not None:
        require_permission(actor, "privacy:manage")
    store = get_store()
    deleted = 0
    for activity_id in activity_ids:
        with transaction.atomic():
            deleted += store.delete(activity_id, announce=lambda gone: _announce_delete(actor, gone))
    return deleted


REDACTED_FIELDS = ("subject", "description", "participants", "metadata", "outcome")


def activities_redact(*, actor, activity_ids, terms) -> int:
    """Erase a person's terms (email, name, phone) from activities that quote them but are not theirs (a meeting
    on a deal they attended): their text and participants lose the quotes; answers how many changed."""
    require_permission(actor, "privacy:manage")
    store = get_store()
    changed = 0
    for activity_id in activity_ids:
        doc = store.get(activity_id)
        if doc is None:
            continue
        changes = {f: redact(doc[f], terms) for f in REDACTED_FIELDS if redact(doc[f], terms) != doc[f]}
        if changes:
            _change(actor=actor, existing=doc, changes={**changes, "updated_at": now_ms()})
            changed += 1
    return changed
