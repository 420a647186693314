"""Audit entries for bulk writes that bypass model signals.

django-auditlog records single saves through signals; `update()` and
`bulk_create` do not fire them, so bulk services call `audit_bulk` with what
they changed.
"""

from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from salesapp.models import User


def current_actor():
    """The user the current request acts as, if any (set by middleware or API auth)."""
    try:
        return auditlog_value.get().get("actor")
    except LookupError:
        return None


def audit_bulk(model, changes: dict, *, action: int = LogEntry.Action.UPDATE, actor=None) -> int:
    """Write one LogEntry per object: `changes` maps pk -> {field: [old, new]}."""
    if not changes:
        return 0
    actor = actor or current_actor()
    ct = ContentType.objects.get_for_model(model)
    now = timezone.now()
    entries = [
        LogEntry(
            content_type=ct,
            object_pk=str(pk),
            object_id=pk if isinstance(pk, int) else None,
            object_repr=f"{model._meta.verbose_name} {pk}",
            action=action,
            changes=diff,
            actor=actor if getattr(actor, "pk", None) else None,
            timestamp=now,
        )
        for pk, diff in changes.items()
    ]
    LogEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def audit_user_event(*, user: User | None, summary: str, change: list, details: dict, actor: User | None = None,
                     remote_addr: str | None = None) -> LogEntry:
    """An audit entry about a user's sign-in that no save records (a lockout, an unlock).

    Filed under the user's account when the attempt named one that exists; `change` is the
    `sign_in` field's [before, after] and `details` what the entry is about (account, address).
    """
    actor = actor or current_actor()
    actor = actor if getattr(actor, "pk", None) else None
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(User),
        object_pk=str(user.pk) if user else "",
        object_id=user.pk if user else None,
        object_repr=summary,
        action=LogEntry.Action.UPDATE,
        changes={"sign_in": change},
        actor=actor,
        actor_email=actor.email if actor else None,
        remote_addr=remote_addr or None,
        additional_data=details,
    )
