"""CSV imports: one job runner for every kind of record.

Apps register an `ImportKind` in `AppConfig.ready()`:

    register_import_kind(ImportKind(
        name="leads", label="Leads", permission="lead:import",
        columns=[ImportColumn("email", required=True), ImportColumn("owner_email"), ...],
        validate_row=lead_import_validate,   # (row: dict, ctx) -> cleaned | raise RowError
        write_rows=lead_import_write,        # (cleaned_rows: list, ctx) -> (created, updated)
    ))

The runner reads the file, applies the column mapping (CSV header -> column
name), and validates every row before writing any. Row numbers are the
spreadsheet's: the header is row 1, the first record row 2. Bytes that are not
UTF-8 and rows with the wrong number of cells are row errors like any other.

Default `on_error=abort`: one bad row and nothing is written; every bad row is
reported as {row, column, message}. `on_error=skip` writes the good rows.
`dry_run` runs the writes inside a transaction that is rolled back, so the
counts say what would happen and nothing stays.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from salesapp.guards import has_permission
from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.models import ImportJob, User
from salesapp.roles import Role

log = logging.getLogger(__name__)

PROGRESS_EVERY = 200
MAX_ERRORS = 1000  # a file of garbage should not make a megabyte of JSON


class RowError(Exception):
    """A bad cell: `column` (the mapped column name, "" for the whole row) and why."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


class RowErrors(Exception):
    """Several bad cells in one row."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class ImportSetupError(ValueError):
    """The job cannot start at all (unknown kind, bad mapping, unreadable file): names the field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ImportColumn:
    """A column an import kind understands."""

    name: str
    required: bool = False
    help: str = ""
    admin_only: bool = False  # e.g. original created_at, carried over from another CRM


@dataclass(frozen=True)
class ImportKind:
    """What one app contributes to imports: its columns, a row validator and a bulk writer."""

    name: str
    label: str
    columns: list[ImportColumn]
    validate_row: Callable[[dict, ImportContext], Any]
    write_rows: Callable[[list, ImportContext], tuple[int, int]]
    permission: str = "lead:import"
    list_url: str = ""  # URL name of the list page the import page links back to, e.g. "leads:list"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class ImportContext:
    """What validators and writers may use: the actor, the job, caches, in-file duplicate tracking."""

    actor: Any
    job: ImportJob | None = None
    dry_run: bool = False
    row: int = 0
    cache: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.role == Role.ADMIN

    def claim(self, key_name: str, value, column: str) -> None:
        """Refuse a value already used by an earlier row of the same file (duplicates inside the file)."""
        if value in ("", None):
            return
        seen = self.seen.setdefault(key_name, {})
        if value in seen:
            raise RowError(column, f"duplicate of row {seen[value]} in this file")
        seen[value] = self.row

    def owner(self, email: str, column: str = "owner_email"):
        """The active user with this email, or a row error."""
        email = (email or "").strip().lower()
        if not email:
            return None
        owners = self.cache.setdefault("owners", {})
        if email not in owners:
            owners[email] = User.objects.filter(email__iexact=email, is_active=True).first()
        if owners[email] is None:
            raise RowError(column, f"no active user with email {email}")
        return owners[email]

    def territory(self, name: str, column: str = "territory"):
        """The territory with this name in the active plan, or a row error."""
        name = (name or "").strip()
        if not name:
            return None
        found = self.cache.setdefault("territories", {})
        if name.lower() not in found:
            if _territory_resolver is None:
                raise ImproperlyConfigured("no territory resolver; the territories app registers one in ready()")
            found[name.lower()] = _territory_resolver(name)
        if found[name.lower()] is None:
            raise RowError(column, f"no territory named {name!r}")
        return found[name.lower()]


def parse_date_cell(value: str, column: str) -> dt.date | None:
    """A calendar day from an ISO 8601 cell (`2025-11-03`, or the date part of a time); blank is None."""
    value = (value or "").strip()
    if not value:
        return None
    day = parse_date(value[:10]) if len(value) >= 10 else None
    if day is None:
        raise RowError(column, f"{value!r} is not a date (use YYYY-MM-DD)")
    return day


def parse_datetime_cell(value: str, column: str, *, past_only: bool = False) -> dt.datetime | None:
    """An aware moment from an ISO 8601 cell; a bare date is midnight UTC, a time without offset is UTC.

    `past_only` refuses moments after now (original creation times carried over from another CRM).
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        day = parse_date(value) if len(value) == 10 else None
        if day is None:
            raise RowError(column, f"{value!r} is not a date or time (use ISO 8601, e.g. 2025-11-03T14:30:00Z)")
        moment = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    if past_only and moment > timezone.now():
        raise RowError(column, "is in the future")
    return moment


_territory_resolver: Callable[[str], Any] | None = None
_kinds: dict[str, ImportKind] = {}


def register_import_kind(kind: ImportKind) -> None:
    """Make `kind` importable through the API and the import page (call from AppConfig.ready)."""
    _kinds[kind.name] = kind


def register_territory_resolver(fn: Callable[[str], Any]) -> None:
    """Let the territories app decide how a territory name resolves (registered once, in its ready())."""
    global _territory_resolver
    _territory_resolver = fn


def import_kinds() -> dict[str, ImportKind]:
    return dict(_kinds)


def import_kind(name: str) -> ImportKind:
    try:
        return _kinds[name]
    except KeyError:
        raise ImportSetupError("kind", f"unknown import kind {name!r}; known: {', '.join(sorted(_kinds)) or 'none'}")


def kinds_for(user) -> list[ImportKind]:
    """The kinds `user` may import: each kind names the permission it needs (a writer's)."""
    return [k for k in _kinds.values() if has_permission(user, k.permission)]


def require_importer(user, kind: str | None = None) -> None:
    """403 for a user who may import nothing (or not this `kind`): the role decides before any input is read."""
    allowed = {k.name for k in kinds_for(user)}
    if not allowed or (kind is not None and kind in _kinds and kind not in allowed):
        raise PermissionDenied("Your role may not import records.")


# --- reading the file ----------------------------------------------------------


def _text(content: bytes) -> str:
    # surrogateescape keeps bad bytes as lone surrogates, so they surface as
    # errors on their own row instead of failing the whole file.
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    return content.decode("utf-8", errors="surrogateescape")


def _has_bad_bytes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def read_header(content: bytes) -> list[str]:
    """The CSV's header row (for the mapping page)."""
    try:
        reader = csv.reader(io.StringIO(_text(bytes(content)), newline=""))
        header = next(reader, [])
    except csv.Error as exc:
        raise ImportSetupError("file", f"not a CSV file: {exc}")
    return [h.strip() for h in header]


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def guess_mapping(header: list[str], kind: ImportKind) -> dict[str, str]:
    """Map headers to columns by name, ignoring case, spaces, dashes and underscores."""
    names = {_norm(c): c for c in kind.column_names}
    return {h: names[_norm(h)] for h in header if _norm(h) in names}


def check_mapping(mapping: dict, header: list[str], kind: ImportKind, actor) -> dict[str, str]:
    """Validate a mapping against the file and the kind; raises ImportSetupError naming `mapping`."""
    if not isinstance(mapping, dict):
        raise ImportSetupError("mapping", "must be a JSON object of CSV header -> column name")
    mapping = {str(k): str(v) for k, v in mapping.items() if v not in ("", None)}
    unknown_headers = [h for h in mapping if h not in header]
    if unknown_headers:
        raise ImportSetupError("mapping", f"headers not in the file: {', '.join(unknown_headers)}")
    columns = {c.name: c for c in kind.columns}
    unknown = [v for v in mapping.values() if v not in columns]
    if unknown:
        raise ImportSetupError("mapping", f"unknown columns for {kind.name}: {', '.join(unknown)}")
    targets = list(mapping.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise ImportSetupError("mapping", f"columns mapped twice: {', '.join(doubled)}")
    missing = [c.name for c in kind.columns if c.required and c.name not in targets]
    if missing:
        raise ImportSetupError("mapping", f"required columns not mapped: {', '.join(missing)}")
    is_admin = actor is not None and actor.role == Role.ADMIN
    forbidden = [v for v in targets if columns[v].admin_only and not is_admin]
    if forbidden:
        raise ImportSetupError("mapping", f"only admins may import {', '.join(forbidden)}")
    return mapping


# --- creating and running jobs -------------------------------------------------


def import_job_create(*, actor, kind: str, content: bytes, filename: str = "", mapping: dict | None = None,
                      dry_run: bool = False, on_error: str = ImportJob.OnError.ABORT,
                      check: bool = True) -> ImportJob:
    """Store an import job (pending); the mapping is guessed from the header when not given.

    `check=False` keeps a guessed mapping unchecked, for the page where the user still chooses it.
    """
    spec = import_kind(kind)
    if not has_permission(actor, spec.permission):
        raise ImportSetupError("kind", f"you may not import {spec.label.lower()}")
    if on_error not in ImportJob.OnError.values:
        raise ImportSetupError("on_error", "must be abort or skip")
    if not content:
        raise ImportSetupError("file", "the file is empty")
    header = read_header(content)
    if not header:
        raise ImportSetupError("file", "the file has no header row")
    mapping = mapping if mapping else guess_mapping(header, spec)
    if check:
        mapping = check_mapping(mapping, header, spec, actor)
    return ImportJob.objects.create(
        kind=kind, content=content, filename=filename[:255], mapping=mapping, dry_run=dry_run,
        on_error=on_error, created_by=actor,
    )


def import_job_start(job: ImportJob) -> None:
    """Queue the job once the row is committed (runs in process when Celery is eager).

    Queued while the broker is down, it starts when the broker is back (the job watchdog sends it).
    """
    job.queued_at = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(queued_at=job.queued_at)
    job_send(_run_task(), job.pk)


def _run_task():
    from salesapp.tasks import import_run_task  # the task module imports this one: a real cycle

    return import_run_task


def import_job_retry(*, actor, job: ImportJob, on_error: str | None = None) -> ImportJob:
    """Start a finished import again as a new job with the same file and mapping (a failed one, or a dry run).

    A failed import wrote nothing (the good rows are written in one transaction), so its retry writes every
    good row once.
    """
    if not job.is_finished:
        raise ImportSetupError("status", "only a finished import can be run again")
    new = import_job_create(
        actor=actor, kind=job.kind, content=bytes(job.content), filename=job.filename, mapping=job.mapping,
        dry_run=False, on_error=on_error or job.on_error,
    )
    import_job_start(new)
    return new


def import_job_fail(job_id: int, reason: str) -> None:
    """End a job that cannot go on (its worker died too often), visibly, for a retry."""
    ImportJob.objects.filter(pk=job_id).exclude(status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]) \
        .update(status=ImportJob.Status.FAILED, finished_at=timezone.now(), message=f"The import stopped: {reason}.")


def register_import_jobs() -> None:
    """Put import jobs under the job watchdog: a job whose worker died runs again from the start."""
    register_job_kind("import", JobKind(
        model=ImportJob, waiting=(ImportJob.Status.PENDING,), running=ImportJob.Status.RUNNING,
        queued_field="queued_at", ready=Q(queued_at__isnull=False),
        send=lambda pk: job_send(_run_task(), pk), fail=import_job_fail,
    ))


def _row_error(row: int, column: str, message: str) -> dict:
    return {"row": row, "column": column, "message": message}


def _errors_of(exc: Exception, row: int) -> list[dict]:
    if isinstance(exc, RowError):
        return [_row_error(row, exc.column, exc.message)]
    if isinstance(exc, RowErrors):
        return [_row_error(row, e.column, e.message) for e in exc.errors]
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [_row_error(row, col, msg) for col, msgs in exc.message_dict.items() for msg in msgs]
        return [_row_error(row, "", msg) for msg in exc.messages]
    raise exc


def _progress(job: ImportJob, **fields) -> None:
    for k, v in fields.items():
        setattr(job, k, v)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


class _DryRunRollback(Exception):
    pass


def import_job_run(job_id: int) -> ImportJob:
    """Validate every row, then write (all, the good ones, or none), recording progress and errors.

    The job is claimed first, so a redelivered task of a live job returns at once. A job whose worker died
    runs again from the start: the rows are written in one transaction, so the dead run wrote none.
    """
    if not job_claim("import", job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    _progress(job, started_at=job.started_at or timezone.now(), processed=0, errors=[])
    try:
        with job_heartbeat("import", job_id):
            return _run(job)
    except Exception as exc:  # any failure ends the job visibly as failed, never as silently running
        log.exception("import %s failed", job.pk)
        _progress(job, status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                  message=f"the import stopped: {type(exc).__name__}: {exc}"[:2000])
        return job


def _run(job: ImportJob) -> ImportJob:
    spec = import_kind(job.kind)
    ctx = ImportContext(actor=job.created_by, job=job, dry_run=job.dry_run)
    rows = list(csv.reader(io.StringIO(_text(bytes(job.content)), newline="")))
    header = [h.strip() for h in rows[0]] if rows else []
    body = [(n, r) for n, r in enumerate(rows[1:], start=2) if any(cell.strip() for cell in r)]
    _progress(job, total=len(body))
    index = {h: i for i, h in enumerate(header)}
    columns = [(index[h], col) for h, col in job.mapping.items() if h in index]
    errors: list[dict] = []
    good: list = []
    for done, (number, cells) in enumerate(body, start=1):
        ctx.row = number
        try:
            good.append(_validate(spec, ctx, header, columns, cells))
        except (RowError, RowErrors, ValidationError) as exc:
            errors.extend(_errors_of(exc, number))
        if done % PROGRESS_EVERY == 0:
            _progress(job, processed=done)
    _progress(job, processed=len(body), errors=errors[:MAX_ERRORS])
    if errors and job.on_error == ImportJob.OnError.ABORT:
        _progress(job, status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                  message=f"{len({e['row'] for e in errors})} bad rows; nothing was written")
        return job
    created = updated = 0
    try:
        with transaction.atomic():
            created, updated = spec.write_rows(good, ctx) if good else (0, 0)
            if job.dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    verb = "would be" if job.dry_run else "were"
    skipped = len({e["row"] for e in errors})
    message = f"{created} created and {updated} updated {verb} written" + (f"; {skipped} bad rows skipped" if skipped else "")
    _progress(job, status=ImportJob.Status.SUCCEEDED, finished_at=timezone.now(), created=created, updated=updated,
              message=message)
    return job


def _validate(spec: ImportKind, ctx: ImportContext, header: list[str], columns, cells: list[str]):
    if len(cells) != len(header):
        raise RowError("", f"expected {len(header)} columns, found {len(cells)}")
    bad = [col for i, col in columns if _has_bad_bytes(cells[i])]
    if bad:
        raise RowErrors([RowError(col, "contains bytes that are not UTF-8") for col in bad])
    row = {c.name: "" for c in spec.columns}
    row.update({col: cells[i].strip() for i, col in columns})
    missing = [c.name for c in spec.columns if c.required and not row[c.name]]
    if missing:
        raise RowErrors([RowError(col, "this field is required") for col in missing])
    return spec.validate_row(row, ctx)


def import_job_set_mapping(*, job: ImportJob, actor, mapping: dict, dry_run: bool, on_error: str) -> ImportJob:
    """Fix the mapping of a job not yet queued (the import page's second step)."""
    if job.queued_at:
        raise ImportSetupError("mapping", "this import has already started")
    spec = import_kind(job.kind)
    job.mapping = check_mapping(mapping, read_header(bytes(job.content)), spec, actor)
    job.dry_run = dry_run
    job.on_error = on_error if on_error in ImportJob.OnError.values else ImportJob.OnError.ABORT
    job.save(update_fields=["mapping", "dry_run", "on_error"])
    return job


def import_job_list(*, user):
    """Jobs the user may see: their own and their reports' (admins see all), by the access rule."""
    return ImportJob.objects.select_related("created_by").defer("content").restrict(user)
