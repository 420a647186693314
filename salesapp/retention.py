"""Retention: how long each kind of data is kept, and a periodic pass that anonymises or deletes what is older.

Apps register each kind of data they keep (`register_retention_target`) with two functions of one
cut-off moment: `due(cutoff)` answers the ids past it, `apply(ids)` anonymises or deletes exactly those
through the app's own services. Admins set the days per kind (RetentionPolicy, in the admin console).

`retention_run(dry_run=True)` reports per policy how many records it would change and changes nothing;
`retention_run(dry_run=False)` changes them. Both count from the same moment `now`, so a real run given
the dry run's moment changes exactly the records the dry run counted. Each pass is kept (RetentionRun).
The kernel's own target is the data-access log (the purge that DATA_ACCESS_RETENTION_DAYS used to set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from salesapp.guards import require_permission
from salesapp.models import DataAccess, RetentionPolicy, RetentionRun, User
from salesapp.partitions import partitions_drop_before

APPLY_BATCH = 1000


@dataclass(frozen=True)
class RetentionTarget:
    """One kind of data under a retention policy: what is past the cut-off, and what is done to it."""

    key: str
    label: str
    action: str  # what `apply` does, for people to read: "anonymised", "deleted"
    due: Callable[[dt.datetime], Iterable[int]]
    apply: Callable[[list[int]], int]
    # A real run's first step where whole quarters can go at once (a partitioned table's DROP): answers how many
    # records went with them; `apply` then takes what is left.
    drop_whole: Callable[[dt.datetime], int] | None = None


_targets: dict[str, RetentionTarget] = {}


def register_retention_target(target: RetentionTarget) -> None:
    """Put a kind of data under retention (from AppConfig.ready)."""
    _targets[target.key] = target


def retention_targets() -> dict[str, RetentionTarget]:
    return dict(_targets)


def retention_run(*, dry_run: bool, now: dt.datetime | None = None, actor: User | None = None,
                  data_types: list[str] | None = None) -> RetentionRun:
    """One pass of every enabled policy (or of those of `data_types`): per policy, how many records are past
    their days, and, unless a dry run, anonymise or delete those, in batches."""
    if actor is not None:
        require_permission(actor, "privacy:manage")
    now = now or timezone.now()
    report = {}
    policies = RetentionPolicy.objects.filter(enabled=True).order_by("data_type")
    if data_types is not None:
        policies = policies.filter(data_type__in=data_types)
    for policy in policies:
        target = _targets[policy.data_type]
        cutoff = now - dt.timedelta(days=policy.keep_days)
        ids = sorted(target.due(cutoff))
        due, changed = len(ids), 0
        if not dry_run:
            if target.drop_whole is not None:
                changed += target.drop_whole(cutoff)
                ids = sorted(target.due(cutoff))
            for i in range(0, len(ids), APPLY_BATCH):
                with transaction.atomic():
                    changed += target.apply(ids[i : i + APPLY_BATCH])
        report[policy.data_type] = {"label": target.label, "action": target.action, "keep_days": policy.keep_days,
                                    "cutoff": cutoff.isoformat(), "due": due, "changed": changed}
    return RetentionRun.objects.create(dry_run=dry_run, at=now, report=report, started_by=actor)


def _data_access_due(cutoff: dt.datetime) -> Iterable[int]:
    return DataAccess.objects.filter(at__lt=cutoff).values_list("id", flat=True).iterator()


def _data_access_delete(ids: list[int]) -> int:
    return DataAccess.objects.filter(id__in=ids).delete()[0]


def _data_access_drop_quarters(cutoff: dt.datetime) -> int:
    # Quarters whose entries are all past the cut-off go by DROP on PostgreSQL, not row by row.
    return partitions_drop_before(DataAccess._meta.db_table, cutoff)


def register_kernel_targets() -> None:
    register_retention_target(RetentionTarget(
        key="data_access", label="Data-access entries (who read what)", action="deleted",
        due=_data_access_due, apply=_data_access_delete, drop_whole=_data_access_drop_quarters))
