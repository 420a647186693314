"""Audit entries for bulk writes that bypass model signals.

django-auditlog records single saves through signals; `update()` and
`bulk_create` do not fire them, so bulk services call `audit_bulk` with what
they changed.
"""

from auditlog.context import auditlog_value
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone


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
