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

Rows are read from the file as a stream, checked and written in batches of
BATCH rows: one pass checks every row of every file (the abort rule needs all
errors before any write), a second writes each batch in its own transaction
through the kind's set-based writer. References to other records
(`lead_external_id`, `account_name`, `owner_email`...) are columns registered
once with `register_reference`; the runner resolves each batch's values in one
query per column, and a value that names a record of an earlier file of the
same upload counts as found. An upload may be a zip of CSVs of several kinds
(`bundle`), imported in the kinds' dependency order.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import logging
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from salesapp.events import publish
from salesapp.guards import has_permission
from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.models import ImportJob
from salesapp.roles import Role
from salesapp.selectors import users_by_email

log = logging.getLogger(__name__)

PROGRESS_EVERY = 200
BATCH = 1000  # rows checked, resolved and written together
MAX_ERRORS = 1000  # a file of garbage should not make a megabyte of JSON
BUNDLE = "bundle"  # the kind of a zip of CSVs of several kinds
ZIP_MAGIC = b"PK\x03\x04"


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
    # Dependency order inside a bundle: users, accounts, contacts, leads, deals, stage history, activities.
    order: int = 50
    # Reference names a row of this kind answers to, and the column holding the value: a later file of
    # the same upload may name the row by it ({"lead_external_id": "external_id", "lead_email": "email"}).
    provides: dict[str, str] = field(default_factory=dict)
    # Run once after every file of the job is written, in its own transaction (links between kinds).
    finish: Callable[[ImportContext], str] | None = None
    file_names: tuple[str, ...] = ()  # names of a bundle's CSV files meaning this kind (without .csv)
    # Called with a batch's rows (dicts by column) before they are validated: look up in bulk what the
    # validator needs (the records the rows update), into ctx.cache.
    prepare: Callable[[list[dict], ImportContext], None] | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def reference_columns(self) -> list[str]:
        """The columns of this kind that point to other records (shown on the mapping step)."""
        return [c.name for c in self.columns if c.name in _references]


@dataclass
class ImportContext:
    """What validators and writers may use: the actor, the job, caches, in-file duplicate tracking."""

    actor: Any
    job: ImportJob | None = None
    dry_run: bool = False
    row: int = 0
    cache: dict = field(default_factory=dict)
    seen: dict = field(default_factory=dict)
    # reference name -> values rows of earlier files provide (checked, not yet written)
    pending: dict = field(default_factory=dict)
    checking: bool = False
    written: dict = field(default_factory=dict)  # kind -> ids written by this job (for finish hooks)

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
            owners.update(dict.fromkeys([email]) | users_by_email([email]))
        if owners[email] is None:
            raise RowError(column, f"no active user with email {email}")
        return owners[email]

    def prefetch_owners(self, emails) -> None:
        """Resolve many owner emails in one query (a batch's `owner_email` cells)."""
        owners = self.cache.setdefault("owners", {})
        todo = {(e or "").strip().lower() for e in emails} - set(owners) - {""}
        if todo:
            owners.update(dict.fromkeys(todo) | users_by_email(todo))

    def ref(self, column: str, value: str):
        """The id of the record a reference cell names; None for a blank cell; PENDING while checking a record
        an earlier file of this upload brings; a row error naming the column when nothing matches."""
        reference = _references[column]
        key = reference.normalize(value or "")
        if not key:
            return None
        found = self.cache.setdefault(("ref", column), {})
        if key not in found:
            found.update(dict.fromkeys([key]) | reference.resolve({key}, self.actor))
        if found[key] is not None:
            return found[key]
        if self.checking and key in self.pending.get(column, ()):
            return PENDING
        raise RowError(column, f"no {reference.label} with {reference.what} {value.strip()!r} in this upload or "
                               "among the records you may see")

    def prefetch(self, column: str, values) -> None:
        """Resolve a batch's values of one reference column in one query."""
        reference = _references[column]
        found = self.cache.setdefault(("ref", column), {})
        todo = {reference.normalize(v or "") for v in values} - set(found) - {""}
        if todo:
            found.update(dict.fromkeys(todo) | reference.resolve(todo, self.actor))

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


class _Pending:
    """A reference to a record an earlier file of the same upload brings: found once that file is written."""

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()


@dataclass(frozen=True)
class Reference:
    """A column naming another record by its external id or natural key, and how to find those records."""

    name: str  # the column, e.g. "lead_external_id"
    label: str  # what it points to, e.g. "lead"
    what: str  # by what, e.g. "external id"
    resolve: Callable[[set[str], Any], dict[str, int]]  # (normalised values, actor) -> {value: id} it may see
    normalize: Callable[[str], str] = str.strip


def register_reference(name: str, *, label: str, what: str, resolve, normalize=str.strip) -> None:
    """Let any import kind name `label` records in a column `name` (the owning app registers it once)."""
    _references[name] = Reference(name, label, what, resolve, normalize)


def reference_names() -> list[str]:
    return sorted(_references)


_territory_resolver: Callable[[str], Any] | None = None
_kinds: dict[str, ImportKind] = {}
_references: dict[str, Reference] = {}


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
        reader = csv.reader(io.StringIO(_text(bytes(content[:65536])), newline=""))
        header = next(reader, [])
    except csv.Error as exc:
        raise ImportSetupError("file", f"not a CSV file: {exc}")
    return [h.strip() for h in header]


def read_samples(content: bytes, header: list[str], *, rows: int = 5) -> dict[str, list[str]]:
    """The first `rows` non-blank values of each column (shown beside its mapping)."""
    samples: dict[str, list[str]] = {h: [] for h in header}
    reader = csv.reader(io.StringIO(_text(bytes(content[:262144])), newline=""))
    next(reader, None)
    for n, cells in enumerate(reader):
        if n >= 50 or all(len(v) >= rows for v in samples.values()):
            break
        for h, cell in zip(header, cells, strict=False):
            if cell.strip() and len(samples[h]) < rows:
                samples[h].append(cell.strip()[:60])
    return samples


def preview_rows(content: bytes, mapping: dict, kind: ImportKind, *, rows: int = 5) -> dict:
    """The first rows as they will be saved: the mapped columns, in the kind's order, with their cells."""
    header = read_header(content)
    index = {h: i for i, h in enumerate(header)}
    columns = [c for c in kind.column_names if c in mapping.values()]
    where = {col: index[h] for h, col in mapping.items() if h in index}
    body = []
    for _number, cells in _records(bytes(content[:262144])):
        if len(body) >= rows:
            break
        body.append([cells[where[c]].strip() if where[c] < len(cells) else "" for c in columns])
    return {"columns": columns, "rows": body}


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


# What other systems call our columns (normalised: lower case, letters and digits only).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "title": ("jobtitle", "position", "jobrole", "role"),
    "employee_count": ("employees", "numberofemployees", "headcount", "companysize", "staff", "noofemployees"),
    "annual_revenue": ("revenue", "annualrevenue", "turnover", "yearlyrevenue"),
    "postal_code": ("zip", "zipcode", "postcode", "postalcode", "plz"),
    "first_name": ("first", "firstname", "givenname", "forename"),
    "last_name": ("last", "lastname", "surname", "familyname"),
    "email": ("emailaddress", "mail", "email1"),
    "phone": ("phonenumber", "telephone", "tel", "mobile", "mobilephone"),
    "company": ("companyname", "organization", "organisation", "accountname"),
    "website": ("url", "web", "homepage", "website"),
    "owner_email": ("owner", "leadowner", "dealowner", "accountowner", "assignedto", "owneremail"),
    "created_at": ("created", "createddate", "createdon", "createdtime", "datecreated", "createdate"),
    "updated_at": ("modified", "lastmodified", "lastmodifieddate", "updated", "modifieddate"),
    "external_id": ("id", "recordid", "externalid", "sourceid", "crmid"),
    "state": ("region", "province", "stateprovince"),
    "country": ("countrycode", "nation"),
    "amount": ("value", "dealvalue", "dealamount", "amount"),
    "expected_close_date": ("closedate", "expectedclose", "expectedclosedate"),
    "stage": ("dealstage", "stagename", "pipelinestage"),
    "source": ("leadsource", "origin", "channel"),
}


def _guess(header: str, names: list[str]) -> str | None:
    """The column a header means: same name, a known synonym, or a close spelling of either."""
    key = _norm(header)
    by_norm = {_norm(c): c for c in names}
    if key in by_norm:
        return by_norm[key]
    aliases = {alias: name for name in names for alias in SYNONYMS.get(name, ())}
    if key in aliases:
        return aliases[key]
    close = difflib.get_close_matches(key, [*by_norm, *aliases], n=1, cutoff=0.85)
    if close:
        return by_norm.get(close[0]) or aliases[close[0]]
    return None


def guess_mapping(header: list[str], kind: ImportKind) -> dict[str, str]:
    """Map headers to columns by name, synonym or close spelling, ignoring case, spaces, dashes and underscores.

    A column is taken once, by the first header that means it.
    """
    mapping: dict[str, str] = {}
    for h in header:
        column = _guess(h, kind.column_names)
        if column and column not in mapping.values():
            mapping[h] = column
    return mapping


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


def bundle_members(content: bytes) -> list[tuple[ImportKind, str, bytes]]:
    """The CSVs of a zip as (kind, file name, content), in dependency order; a CSV of no known kind is refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    except zipfile.BadZipFile as exc:
        raise ImportSetupError("file", f"not a zip file: {exc}")
    by_name = {n: k for k in _kinds.values() for n in (k.name, *k.file_names)}
    members = []
    for info in archive.infolist():
        if info.is_dir() or info.filename.startswith("__MACOSX/"):
            continue
        stem = info.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower().replace("-", "_").replace(" ", "_")
        if stem not in by_name:
            raise ImportSetupError("file", f"{info.filename}: no import kind is called {stem!r}; name each CSV after "
                                           f"its kind ({', '.join(sorted(by_name))})")
        members.append((by_name[stem], info.filename, archive.read(info)))
    if not members:
        raise ImportSetupError("file", "the zip holds no CSV files")
    return sorted(members, key=lambda m: (m[0].order, m[1]))


def _is_bundle(kind: str, content: bytes) -> bool:
    return kind == BUNDLE or bytes(content[:4]) == ZIP_MAGIC


def import_job_create(*, actor, kind: str, content: bytes, filename: str = "", mapping: dict | None = None,
                      dry_run: bool = False, on_error: str = ImportJob.OnError.ABORT,
                      check: bool = True) -> ImportJob:
    """Store an import job (pending); the mapping is guessed from the header when not given.

    A zip of CSVs (kind `bundle`) maps each file: `mapping` is {file name: {header: column}}.
    `check=False` keeps a guessed mapping unchecked, for the page where the user still chooses it.
    """
    if on_error not in ImportJob.OnError.values:
        raise ImportSetupError("on_error", "must be abort or skip")
    if not content:
        raise ImportSetupError("file", "the file is empty")
    if _is_bundle(kind, content):
        kind = BUNDLE
        given = mapping or {}
        mapping = {}
        for spec, name, member in bundle_members(content):
            if not has_permission(actor, spec.permission):
                raise ImportSetupError("kind", f"you may not import {spec.label.lower()}")
            header = read_header(member)
            member_mapping = given.get(name) or guess_mapping(header, spec)
            mapping[name] = check_mapping(member_mapping, header, spec, actor) if check else member_mapping
    else:
        spec = import_kind(kind)
        if not has_permission(actor, spec.permission):
            raise ImportSetupError("kind", f"you may not import {spec.label.lower()}")
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
    if settings.IMPORTS_IN_THREAD:
        # Embedded mode has no worker: a thread of this process runs the job so the page can show progress.
        transaction.on_commit(lambda: _run_in_thread(job.pk))
    else:
        job_send(_run_task(), job.pk)


def _run_in_thread(job_id: int) -> None:
    def run():
        try:
            import_job_run(job_id)
        finally:
            connection.close()  # this thread's own connection

    threading.Thread(target=run, name=f"import-{job_id}", daemon=True).start()


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
    """Ends a dry run's transaction, carrying its counts out."""


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


def _files(job: ImportJob) -> list[tuple[ImportKind, str, bytes, dict]]:
    """The job's CSVs as (kind, file name, content, mapping), in dependency order."""
    if job.kind == BUNDLE:
        return [(spec, name, member, job.mapping.get(name, {})) for spec, name, member in bundle_members(job.content)]
    return [(import_kind(job.kind), job.filename, bytes(job.content), job.mapping)]


def _records(content: bytes):
    """(row number, cells) of each non-blank record after the header, streamed from the file."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", errors="surrogateescape",
                                         newline=""))
    next(reader, None)
    for number, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            yield number, cells


def _batches(content: bytes):
    batch = []
    for record in _records(content):
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _checked(file: tuple, ctx: ImportContext, batch, errors: list):
    """The batch's rows validated (references resolved in one query per column); bad rows go to `errors`."""
    spec, name, content, mapping = file
    header = read_header(content)
    index = {h: i for i, h in enumerate(header)}
    columns = [(index[h], col) for h, col in mapping.items() if h in index]
    for i, col in columns:
        values = {cells[i] for _n, cells in batch if i < len(cells)}
        if col in _references:
            ctx.prefetch(col, values)
        elif col == "owner_email":
            ctx.prefetch_owners(values)
    good = []
    where = f"{name}: " if ctx.job is not None and ctx.job.kind == BUNDLE else ""
    rows = []
    for number, cells in batch:
        try:
            rows.append((number, cells, _row_of(spec, header, columns, cells)))
        except (RowError, RowErrors) as exc:
            errors.extend({**e, "message": where + e["message"]} for e in _errors_of(exc, number))
    if spec.prepare is not None:
        spec.prepare([row for _n, _c, row in rows], ctx)
    for number, cells, row in rows:
        ctx.row = number
        try:
            good.append(spec.validate_row(row, ctx))
        except (RowError, RowErrors, ValidationError) as exc:
            errors.extend({**e, "message": where + e["message"]} for e in _errors_of(exc, number))
            continue
        if ctx.checking:
            _provide(spec, ctx, columns, cells)
    return good


def _provide(spec: ImportKind, ctx: ImportContext, columns, cells) -> None:
    """Note the reference values a good row answers to, for the later files of the upload."""
    where = {col: i for i, col in columns}
    for reference, column in spec.provides.items():
        value = _references[reference].normalize(cells[where[column]]) if column in where else ""
        if value:
            ctx.pending.setdefault(reference, set()).add(value)


def _run(job: ImportJob) -> ImportJob:
    files = _files(job)
    total = sum(1 for _s, _n, content, _m in files for _r in _records(content))
    _progress(job, total=total, message="Checking rows")
    ctx = ImportContext(actor=job.created_by, job=job, dry_run=job.dry_run, checking=True)
    errors: list[dict] = []
    done = 0
    for file in files:
        ctx.seen = {}
        for batch in _batches(file[2]):
            _checked(file, ctx, batch, errors)
            done += len(batch)
            _progress(job, processed=done)
    _progress(job, processed=total, errors=errors[:MAX_ERRORS])
    if errors and job.on_error == ImportJob.OnError.ABORT:
        _progress(job, status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                  message=f"{len({e['row'] for e in errors})} bad rows; nothing was written")
        return job
    ctx.checking = False
    ctx.cache = {k: v for k, v in ctx.cache.items() if not (isinstance(k, tuple) and k[0] == "ref")}
    try:
        if job.dry_run:
            with transaction.atomic():
                created, updated = _write(job, files, ctx, total)
                raise _DryRunRollback(created, updated)
        created, updated = _write(job, files, ctx, total)
    except _DryRunRollback as rolled_back:
        created, updated = rolled_back.args
    verb = "would be" if job.dry_run else "were"
    skipped = len({e["row"] for e in errors})
    message = f"{created} created and {updated} updated {verb} written" + (f"; {skipped} bad rows skipped" if skipped else "")
    with transaction.atomic():
        _progress(job, status=ImportJob.Status.SUCCEEDED, finished_at=timezone.now(), created=created,
                  updated=updated, message=message + ctx.cache.get("notes", ""))
        if not job.dry_run:
            publish("import.finished", {"job_id": job.pk, "kinds": [spec.name for spec, *_ in files],
                                        "created": created, "updated": updated}, actor=job.created_by)
    return job


def _write(job: ImportJob, files, ctx: ImportContext, total: int) -> tuple[int, int]:
    """Write every good row, batch by batch (each batch one transaction), then run the kinds' finish steps."""
    created = updated = written = 0
    for file in files:
        spec, ctx.seen = file[0], {}
        for batch in _batches(file[2]):
            good = _checked(file, ctx, batch, [])
            with transaction.atomic():
                c, u = spec.write_rows(good, ctx) if good else (0, 0)
            created, updated, written = created + c, updated + u, written + len(batch)
            _progress(job, created=created, updated=updated, message=f"Writing rows: {written} of {total}")
    for spec in {s.name: s for s, *_ in files}.values():
        if spec.finish is not None:
            with transaction.atomic():
                note = spec.finish(ctx)
            if note:
                ctx.cache["notes"] = ctx.cache.get("notes", "") + f"; {note}"
    return created, updated


def _row_of(spec: ImportKind, header: list[str], columns, cells: list[str]) -> dict:
    """The record's cells by column name, or the errors of its shape (cell count, bytes, required cells)."""
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
    return row


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
