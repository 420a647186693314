"""Writes: log, change, complete and delete activities; rotate calendar links.

Each service takes the acting user, validates first (every error names its
field), writes through the activity store and publishes `activity.logged` /
`activity.completed` in the same database transaction as the outbox row. On
MongoDB the document write is the last step inside that transaction, and a
failed publish removes the document again, so an event exists if and only if
the activity does (barring a crash between the two commits).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.dateparse import parse_datetime

from activities import links
from activities.models import ActivityType
from activities.store import get_store, now_ms, to_ms
from salesapp.access import can_write
from salesapp.events import publish
from salesapp.hierarchy import user_subtree_ids
from salesapp.models import User
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


class ActivityNotFound(Http404):
    """No such activity, or the user may not see it."""


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


def _owner(actor, user_id, errors: dict) -> int:
    """Whose activity it is: the actor, or someone they manage (admins: anyone active)."""
    if user_id in (None, ""):
        return actor.pk
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        errors["user_id"] = ["Enter a user id."]
        return actor.pk
    if user_id == actor.pk:
        return user_id
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        errors["user_id"] = [f"No active user with id {user_id}."]
    elif actor.role != Role.ADMIN and user_id not in user_subtree_ids(actor.pk):
        errors["user_id"] = ["You may only assign activities to yourself or people who report to you."]
    return user_id


def _validate(actor, data: dict, *, existing: dict | None = None) -> dict:
    """The full, checked document (without id) from `data`, over `existing` when changing."""
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
    user_id = _owner(actor, doc.get("user_id"), errors) if (existing is None or "user_id" in data) else doc["user_id"]
    link_input = {f"{k}_id": doc.get(f"{k}_id") for k in links.KINDS}
    if existing is not None and not any(f"{k}_id" in data for k in links.KINDS):
        filled = {k: existing.get(k) for k in link_input}
    else:
        try:
            filled = links.fill_links(actor, link_input)
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


def validate_activity(*, actor, data: dict) -> dict:
    """Check a new activity without writing it (imports validate every row first)."""
    _require_writer(actor)
    return _validate(actor, data)


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


def _require_writer(actor) -> None:
    if not can_write(actor):
        raise PermissionDenied("Your role may not log or change activities.")


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
    _require_writer(actor)
    doc = _validate(actor, {
        "type": type, "subject": subject, "description": description, "lead_id": lead_id,
        "opportunity_id": opportunity_id, "account_id": account_id, "contact_id": contact_id, "user_id": user_id,
        "outcome": outcome, "duration_minutes": duration_minutes, "scheduled_at": scheduled_at,
        "completed_at": completed_at, "due_at": due_at, "participants": list(participants or ()),
        "metadata": metadata, "created_at": created_at,
    })
    store = get_store()
    with transaction.atomic():
        doc = store.insert(doc)
        _publish_or_undo(store, "activity.logged", doc, actor)
    log.info("activity %s (%s) logged by user %s", doc["id"], doc["type"], actor.pk)
    return doc


def _publish_or_undo(store, name: str, doc: dict, actor, *, undo=None) -> None:
    try:
        publish(name, _payload(doc), actor=actor)
    except Exception:
        if store.name != "sql":  # the SQL row rolls back with the transaction; a document does not
            undo() if undo else store.delete(doc["id"])
        raise


def activity_get_for_change(*, actor, activity_id) -> dict:
    """The activity if the actor may see it (404 otherwise) and may write (403 otherwise)."""
    try:
        activity_id = int(activity_id)
    except (TypeError, ValueError):
        raise ActivityNotFound("No such activity")
    doc = get_store().get(activity_id)
    if doc is None or not links.can_see(doc, actor):
        raise ActivityNotFound("No such activity")
    _require_writer(actor)
    return doc


def activity_update(*, actor, activity_id, **changes) -> dict:
    """Change an activity; `metadata` keys merge (email opened/clicked flags arrive later).

    Setting `completed_at` on an open activity completes it and publishes
    `activity.completed`.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError({unknown[0]: ["This field cannot be changed."]})
    existing = activity_get_for_change(actor=actor, activity_id=activity_id)
    doc = _validate(actor, changes, existing=existing)
    store = get_store()
    with transaction.atomic():
        updated = store.update(existing["id"], {k: v for k, v in doc.items() if k not in ("created_at", "created_by_id")})
        if existing["completed_at"] is None and updated["completed_at"] is not None:
            _publish_or_undo(store, "activity.completed", updated, actor,
                             undo=lambda: store.update(existing["id"], _restorable(existing)))
    return updated


def _restorable(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "id"}


def activity_complete(*, actor, activity_id, outcome: str | None = None, completed_at=None) -> dict:
    """Mark a task, meeting, demo (or planned call) done now and publish `activity.completed`."""
    existing = activity_get_for_change(actor=actor, activity_id=activity_id)
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
    store = get_store()
    with transaction.atomic():
        updated = store.update(existing["id"], changes)
        _publish_or_undo(store, "activity.completed", updated, actor,
                         undo=lambda: store.update(existing["id"], _restorable(existing)))
    log.info("activity %s completed by user %s", updated["id"], actor.pk)
    return updated


def activity_can_delete(*, actor, doc: dict) -> bool:
    """Admins, the author, and the owner and their managers may delete an activity."""
    if not can_write(actor):
        return False
    if actor.role == Role.ADMIN or doc.get("created_by_id") == actor.pk:
        return True
    return doc.get("user_id") in user_subtree_ids(actor.pk)


def activity_delete(*, actor, activity_id) -> None:
    doc = activity_get_for_change(actor=actor, activity_id=activity_id)
    if not activity_can_delete(actor=actor, doc=doc):
        raise PermissionDenied("Only its author, its owner or their managers may delete this activity.")
    get_store().delete(doc["id"])
    log.info("activity %s deleted by user %s", doc["id"], actor.pk)


def calendar_token_rotate(*, actor) -> str:
    """Give the user a new secret calendar-feed token; the old feed URL stops working at once."""
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=actor.pk).update(calendar_token=token)
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
    field = f"{kind}_id"
    if field not in ("lead_id", "opportunity_id", "account_id", "contact_id"):
        raise ValueError(f"cannot relink activities of {kind!r}")
    store = get_store()
    moved = 0
    while batch := store.find(("eq", field, from_id), limit=500):
        for doc in batch:
            store.update(doc["id"], {field: to_id, "updated_at": now_ms()})
        moved += len(batch)
    return moved
