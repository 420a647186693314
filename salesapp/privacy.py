"""Data subject requests: access and portability, erasure, CCPA opt-out; the erasure tombstone.

The kernel knows no app. Each app that holds personal data registers one provider in its
AppConfig.ready (`register_personal_data`); a provider reads and changes only its own tables,
through its own services (one writer per table):

- `find(subject)`: add the person's records to the subject (`links`: records that are about the
  person; `related`: records they appear on, such as deals; `terms`: what identifies them: names,
  phones) by the email or by records other providers found before it (providers run by `order`);
- `collect(subject)`: what it holds about the person, as JSON-ready rows (the access archive);
- `erase(subject, actor)`: anonymise or delete the person's records; answers how many;
- `opt_out(subject, actor)`: mark the person's records as opted out of sale or sharing.

The kernel itself owns the audit entries (django-auditlog's LogEntry), the data-access log and the
event outbox: after the providers erased, it redacts the person's terms from the entries about
every record found (the entries the erasure itself wrote included), and leaves a tombstone (a keyed
hash of the email) that lead capture, web-to-lead, imports and contact creation refuse.

A request is a long job (salesapp.jobs): the records found are its checkpoint, so a worker that dies
mid-erasure resumes with the same records even though their emails are already gone.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import salted_hmac

from salesapp.guards import require_permission
from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.models import DataAccess, ErasureTombstone, LawfulBasis, OutboxEvent, PrivacyRequest, User
from salesapp.normalize import normalize_email

log = logging.getLogger(__name__)

ERASED = "[erased]"
REDACT_BATCH = 500


# --- the person and the providers ----------------------------------------------------------------

@dataclass
class Subject:
    """The person a request is about: their email and what the providers found of them."""

    email: str
    links: dict[str, set[int]] = field(default_factory=dict)  # model label -> ids of records about them
    related: dict[str, set[int]] = field(default_factory=dict)  # model label -> ids of records they appear on
    terms: set[str] = field(default_factory=set)  # what identifies them, redacted wherever it is quoted

    def add(self, label: str, ids, *, related: bool = False) -> None:
        (self.related if related else self.links).setdefault(label, set()).update(int(i) for i in ids)

    def ids(self, label: str) -> set[int]:
        return self.links.get(label, set())

    def name_terms(self, *values: str) -> None:
        """Add a person's names, phone and the like (blank values and single letters identify nobody)."""
        self.terms.update(v.strip() for v in values if v and len(v.strip()) > 1)

    def checkpoint(self) -> dict:
        return {"email": self.email, "terms": sorted(self.terms),
                "links": {k: sorted(v) for k, v in self.links.items()},
                "related": {k: sorted(v) for k, v in self.related.items()}}

    @classmethod
    def from_checkpoint(cls, data: dict) -> Subject:
        return cls(email=data["email"], terms=set(data["terms"]),
                   links={k: set(v) for k, v in data["links"].items()},
                   related={k: set(v) for k, v in data["related"].items()})


@dataclass(frozen=True)
class PersonalDataProvider:
    """What one app holds about people, and how it hands it out, erases it and marks an opt-out.

    `audited` maps the model labels whose audit entries hold the person's data to the fields that are
    wholly personal (their audited values are erased outright; None: every field); `records` maps the
    kinds of record a request may name ("lead") to a function answering that record's email.
    """

    key: str
    label: str
    order: int
    find: Callable[[Subject], None]
    collect: Callable[[Subject], object]
    erase: Callable[..., int]
    opt_out: Callable[..., int] | None = None
    audited: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    records: dict[str, Callable[[int], str | None]] = field(default_factory=dict)


_providers: dict[str, PersonalDataProvider] = {}


def register_personal_data(provider: PersonalDataProvider) -> None:
    """Tell the kernel what an app holds about people (from AppConfig.ready)."""
    _providers[provider.key] = provider


def providers() -> list[PersonalDataProvider]:
    return sorted(_providers.values(), key=lambda p: p.order)


def each(records, service) -> int:
    """Run a provider's service on each of `records` (one transaction each, in id order); how many it ran on."""
    done = 0
    for record in records.order_by("id"):
        service(record)
        done += 1
    return done


def record_kinds() -> list[str]:
    return sorted(kind for p in _providers.values() for kind in p.records)


# --- the tombstone and what may be shared ------------------------------------------------------------

def email_key(email: str) -> str:
    """The keyed hash of an email (normalised): how an erased person is remembered without their email."""
    return salted_hmac("salesapp.privacy.email_key", normalize_email(email),
                       secret=settings.PRIVACY_HASH_KEY, algorithm="sha256").hexdigest()


def tombstone_check(email: str, *, field: str = "email") -> None:
    """Refuse an email whose person was erased at their request (lead capture, web-to-lead, imports, contacts)."""
    if email and ErasureTombstone.objects.filter(email_key=email_key(email)).exists():
        raise ValidationError({field: ["This person's data was erased at their request: their email cannot be "
                                       "captured again."]})


CONSENT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CONSENT_FIELDS = ("lawful_basis", "consent_source", "consent_at", "consent_withdrawn_at", "do_not_sell")
# What a record about a person shows of its privacy state (CONSENT_FIELDS, and when it was erased).
PRIVACY_STATE_FIELDS = (*CONSENT_FIELDS, "erased_at")


def consent_check(record, fields: dict) -> None:
    """The rule of consent fields on a record about a person (a lead, a contact), before `fields` are set:
    only consent fields; a known lawful basis; consent needs where (consent_source) and when (consent_at);
    a withdrawal needs consent given, not before it; times lie between 1970 and now. Raises ValidationError
    naming the fields."""
    unknown = set(fields) - set(CONSENT_FIELDS)
    if unknown:
        raise ValidationError({name: ["Not a consent field."] for name in sorted(unknown)})
    after = {name: fields.get(name, getattr(record, name)) for name in CONSENT_FIELDS}
    errors = {}
    if after["lawful_basis"] and after["lawful_basis"] not in LawfulBasis.values:
        errors["lawful_basis"] = [f"Unknown lawful basis {after['lawful_basis']!r}."]
    if after["lawful_basis"] == LawfulBasis.CONSENT and not (after["consent_source"] and after["consent_at"]):
        errors["consent_at"] = ["Consent needs where it was given (consent_source) and when (consent_at)."]
    if after["consent_withdrawn_at"] and not after["consent_at"]:
        errors["consent_withdrawn_at"] = ["Consent that was never given cannot be withdrawn."]
    for name in ("consent_at", "consent_withdrawn_at"):
        if after[name] and not CONSENT_EPOCH <= after[name] <= timezone.now():
            errors.setdefault(name, []).append("A time between 1970 and now.")
    if after["consent_at"] and after["consent_withdrawn_at"] and after["consent_withdrawn_at"] < after["consent_at"]:
        errors.setdefault("consent_withdrawn_at", []).append("Consent cannot be withdrawn before it was given.")
    if errors:
        raise ValidationError(errors)


def shareable() -> Q:
    """The people whose data may leave the system (exports, integrations): consent not withdrawn, no CCPA
    opt-out, not erased. For any model on salesapp.models.PersonalDataModel."""
    return Q(consent_withdrawn_at__isnull=True, do_not_sell=False, erased_at__isnull=True)


# --- requests ------------------------------------------------------------------------------------

@transaction.atomic
def privacy_request_create(*, actor, kind: str, email: str = "", record_kind: str = "", record_id: int | None = None,
                           note: str = "") -> PrivacyRequest:
    """File a data subject request about the person with `email`, or the person of one record of theirs.

    Admins only (privacy:manage). The request runs as a job (`privacy_request_start`).
    """
    require_permission(actor, "privacy:manage")
    errors: dict[str, list[str]] = {}
    if kind not in PrivacyRequest.Kind.values:
        errors["kind"] = [f"Unknown kind {kind!r}: one of {', '.join(PrivacyRequest.Kind.values)}."]
    email = normalize_email(email or "")
    if bool(email) == bool(record_kind):
        errors["email"] = ["Name the person by email, or by one of their records (record_kind and record_id)."]
    elif record_kind:
        email = _email_of_record(record_kind, record_id, errors)
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if errors:
        raise ValidationError(errors)
    request = PrivacyRequest(kind=kind, email=email, subject_key=email_key(email), record_kind=record_kind,
                             record_id=record_id, note=note, requested_by=actor)
    request.save()
    return request


def _email_of_record(record_kind: str, record_id, errors: dict) -> str:
    finder = next((p.records[record_kind] for p in _providers.values() if record_kind in p.records), None)
    if finder is None:
        errors["record_kind"] = [f"Unknown kind of record {record_kind!r}: one of {', '.join(record_kinds())}."]
        return ""
    if record_id is None:
        errors["record_id"] = ["Name the record's id."]
        return ""
    email = normalize_email(finder(int(record_id)) or "")
    if not email:
        errors["record_id"] = [f"No {record_kind} {record_id} with an email address."]
    return email


def privacy_request_start(request: PrivacyRequest) -> None:
    """Queue the request's job once the current transaction commits."""
    job_send(_run_task(), request.pk)


def _run_task():
    from salesapp.tasks import privacy_request_run_task  # the task module imports this one: a real cycle

    return privacy_request_run_task


def privacy_request_fail(pk: int, reason: str) -> None:
    PrivacyRequest.objects.filter(pk=pk).update(status=PrivacyRequest.Status.FAILED, message=reason[:2000],
                                                finished_at=timezone.now())


def register_privacy_jobs() -> None:
    """Put requests under the job watchdog: a request whose worker died resumes from its checkpoint."""
    register_job_kind("privacy_request", JobKind(
        model=PrivacyRequest, waiting=(PrivacyRequest.Status.PENDING,), running=PrivacyRequest.Status.RUNNING,
        queued_field="created_at", send=lambda pk: job_send(_run_task(), pk), fail=privacy_request_fail,
        progress=None,
    ))


def privacy_request_run(pk: int) -> PrivacyRequest:
    """Run (or resume) one request; a failure ends it as failed with the reason, to be filed again."""
    if not job_claim("privacy_request", pk):
        return PrivacyRequest.objects.get(pk=pk)
    request = PrivacyRequest.objects.select_related("requested_by").get(pk=pk)
    PrivacyRequest.objects.filter(pk=pk, started_at__isnull=True).update(started_at=timezone.now())
    try:
        with job_heartbeat("privacy_request", pk):
            _run(request)
    except Exception as exc:  # any failure ends the request visibly as failed, never as silently running
        log.exception("privacy request %s failed", pk)
        privacy_request_fail(pk, f"the request stopped: {type(exc).__name__}: {exc}")
    return PrivacyRequest.objects.get(pk=pk)


def _subject_of(request: PrivacyRequest) -> Subject:
    """The person, found once and checkpointed on the request (an erasure resumed after a crash finds the
    records it already anonymised there, not by their email any more)."""
    if "subject" in request.receipt:
        return Subject.from_checkpoint(request.receipt["subject"])
    subject = subject_find(request.email)
    request.receipt = {**request.receipt, "subject": subject.checkpoint()}
    PrivacyRequest.objects.filter(pk=request.pk).update(receipt=request.receipt)
    return subject


def subject_find(email: str) -> Subject:
    """Everything the providers hold about the person with `email`."""
    subject = Subject(email=normalize_email(email))
    subject.terms.add(subject.email)
    for provider in providers():
        provider.find(subject)
    return subject


def _run(request: PrivacyRequest) -> None:
    actor = request.requested_by
    subject = _subject_of(request)
    found = {label: len(ids) for label, ids in subject.links.items()}
    done: dict = {"found": found}
    archive = None
    if request.kind == PrivacyRequest.Kind.ACCESS:
        archive = privacy_archive(subject, request=request)
        done["archive_bytes"] = len(archive)
    elif request.kind == PrivacyRequest.Kind.OPT_OUT:
        done["opted_out"] = {p.key: p.opt_out(subject, actor=actor) for p in providers() if p.opt_out}
    else:
        done["erased"] = subject_erase(subject, actor=actor, request=request)
    fields = {"status": PrivacyRequest.Status.SUCCEEDED, "finished_at": timezone.now(), "receipt": done,
              "archive": archive, "message": ""}
    if request.kind == PrivacyRequest.Kind.ERASURE:
        fields.update(email="", note=redact(request.note, subject.terms))  # the tombstone remembers the key
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=[*fields])  # one audit entry: what was done, and the receipt's counts
    log.info("privacy request %s (%s) done: %s", request.pk, request.kind, done)


# --- access -----------------------------------------------------------------------------------------

def _dumps(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()


def privacy_archive(subject: Subject, *, request: PrivacyRequest | None = None) -> bytes:
    """One zip of JSON files: what every provider holds about the person, their audit and data-access entries."""
    sections = {p.key: p.collect(subject) for p in providers()}
    sections["audit"] = audit_entries(subject)
    sections["data_access"] = data_access_entries(subject)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _dumps({
            "email": subject.email, "request": request.pk if request else None, "created_at": timezone.now(),
            "files": [f"{key}.json" for key in sections],
        }))
        for key, rows in sections.items():
            archive.writestr(f"{key}.json", _dumps(rows))
    return buffer.getvalue()


def _entries_of(links: dict[str, set[int]]):
    """The audit entries about these records, by content type and id (the index auditlog keeps)."""
    q = Q(pk__in=[])
    for label, ids in links.items():
        if ids:
            ct = ContentType.objects.get_by_natural_key(*label.split("."))
            q |= Q(content_type=ct, object_id__in=list(ids))
    return LogEntry.objects.filter(q)


def audit_entries(subject: Subject) -> list[dict]:
    return list(_entries_of(subject.links).order_by("timestamp", "id").values(
        "id", "timestamp", "action", "content_type__app_label", "content_type__model", "object_id", "object_repr",
        "changes", "actor__email", "remote_addr"))


def _data_access_of(links: dict[str, set[int]]):
    """Data-access entries that showed one of these records: by the model, then the id inside the stored list.

    The ids are matched in the list's text (`[1, 2, 3]` on both databases), a scan of that model's entries:
    they are kept for at most their retention policy.
    """
    q = Q(pk__in=[])
    for label, ids in links.items():
        if ids:
            alternatives = "|".join(str(i) for i in sorted(ids))
            q |= Q(model=label, ids_text__regex=rf"(^|[\[ ,])({alternatives})([,\] ]|$)")
    return DataAccess.objects.annotate(ids_text=Cast("object_ids", TextField())).filter(q)


def data_access_entries(subject: Subject) -> list[dict]:
    return list(_data_access_of(subject.links).order_by("at", "id").values(
        "id", "at", "kind", "model", "object_ids", "filters", "path", "user__email"))


# --- erasure ----------------------------------------------------------------------------------------

def subject_erase(subject: Subject, *, actor: User | None, request: PrivacyRequest | None = None) -> dict:
    """Erase the person: each provider its records, then the kernel the audit, data-access and event entries
    that quote them and earlier requests about them; then the tombstone. Answers how many records each step
    changed."""
    counts = {p.key: p.erase(subject, actor=actor) for p in providers()}
    counts["audit"] = audit_redact(subject)
    counts["data_access"] = data_access_redact(subject)
    counts["events"] = outbox_redact(subject)
    # Earlier requests about the person (an access request's archive) keep only the keyed hash too.
    counts["requests"] = (PrivacyRequest.objects.filter(subject_key=email_key(subject.email))
                          .exclude(pk=getattr(request, "pk", None)).update(email="", note="", archive=None))
    ErasureTombstone.objects.get_or_create(email_key=email_key(subject.email), defaults={"request": request})
    return counts


def _pattern(terms) -> re.Pattern | None:
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    # Whole words only: erasing "Ann" leaves "Annual" alone.
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE) if terms else None


def redact(value, terms):
    """`value` (text, or JSON of lists and dicts) with every quoted term replaced by "[erased]", any case."""
    pattern = _pattern(terms)
    return _redact(value, pattern) if pattern else value


def _redact(value, pattern: re.Pattern):
    """`value` (JSON: text, lists, dicts) with every quoted term replaced."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _redact(v, pattern) for k, v in value.items()}
    return value


def _personal_fields() -> dict[str, tuple[str, ...] | None]:
    return {label: fields for p in _providers.values() for label, fields in p.audited.items()}


def audit_redact(subject: Subject) -> int:
    """Erase the person from the audit entries of every record found (theirs and those they appear on).

    On their own records the personal fields' values are erased outright (an old email differs from the
    current one); everywhere, any quoted term (email, name, phone) is replaced. What happened, when and by
    whom stays.
    """
    pattern = _pattern(subject.terms)
    personal = _personal_fields()
    changed = 0
    everything = {**subject.related}
    for label, ids in subject.links.items():
        everything[label] = everything.get(label, set()) | ids
    entries = _entries_of(everything).select_related("content_type").order_by("id")
    for batch in _batches(entries):
        for entry in batch:
            label = f"{entry.content_type.app_label}.{entry.content_type.model}"
            own = label in subject.links and entry.object_id in subject.links[label]
            fields = personal.get(label, ()) if own else ()
            changes = entry.changes if isinstance(entry.changes, dict) else {}
            changes = {name: (ERASED if fields is None or name in fields else value) for name, value in changes.items()}
            entry.changes = _redact(changes, pattern) if pattern else changes
            entry.object_repr = f"erased {entry.content_type.model} {entry.object_id}" if own else \
                _redact(entry.object_repr, pattern)
            entry.changes_text = ""
            entry.serialized_data = None
            entry.additional_data = _redact(entry.additional_data, pattern) if entry.additional_data else None
        LogEntry.objects.bulk_update(batch, ["changes", "object_repr", "changes_text", "serialized_data",
                                             "additional_data"])
        changed += len(batch)
    return changed


def _batches(queryset):
    last = 0
    while batch := list(queryset.filter(pk__gt=last)[:REDACT_BATCH]):
        yield batch
        last = batch[-1].pk


def data_access_redact(subject: Subject) -> int:
    """Erase the person's terms from the filters and searches of the data-access entries that showed them
    or searched for them (who read what, and when, stays)."""
    pattern = _pattern(subject.terms)
    searched = Q(pk__in=[])
    for term in subject.terms:
        searched |= Q(filters_text__icontains=term)
    quoting = DataAccess.objects.annotate(filters_text=Cast("filters", TextField())).filter(searched)
    changed = 0
    for entries in (_data_access_of(subject.links), quoting):
        rows = [e for e in entries.order_by("id") if _redact(e.filters, pattern) != e.filters]
        for e in rows:
            e.filters = _redact(e.filters, pattern)
        DataAccess.objects.bulk_update(rows, ["filters"], batch_size=REDACT_BATCH)
        changed += len(rows)
    return changed


def outbox_redact(subject: Subject) -> int:
    """Erase the person's terms from stored event payloads (a deleted lead's event carries its email)."""
    pattern = _pattern(subject.terms)
    quoting = Q(pk__in=[])
    for term in subject.terms:
        quoting |= Q(payload_text__icontains=term)
    rows = list(OutboxEvent.objects.annotate(payload_text=Cast("payload", TextField())).filter(quoting))
    for row in rows:
        row.payload = _redact(row.payload, pattern)
    OutboxEvent.objects.bulk_update(rows, ["payload"], batch_size=REDACT_BATCH)
    return len(rows)
