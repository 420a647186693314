"""Personal data at rest: encrypted fields, the blind index that finds them, and the re-encryption job.

- `EncryptedTextField` keeps a value as a Fernet token (AES-128-CBC with HMAC-SHA256, from the
  `cryptography` package) under `settings.FIELD_ENCRYPTION_KEYS` taken as one MultiFernet: the first key
  encrypts, every key decrypts, so a new key can be put in front without downtime. Tokens are
  randomised, so the database can neither compare, search nor sort them: the field refuses every lookup
  but `isnull`, and a query that still tries one fails loudly instead of matching nothing.
- `blind_index(kind, value)` is the one place equality on encrypted data is decided: an HMAC-SHA256
  (`settings.BLIND_INDEX_KEY`) of the value normalised for its kind (an email lower-cased, a phone
  reduced to its digits), stored beside the ciphertext and indexed. Dedup, imports, contact matching
  and exact search compare these hashes. The kind is part of the message, so one string hashed as an
  email and as a phone gives unrelated hashes.
- After a key rotation, `reencryption_job_run` rewrites every encrypted value under the newest key, in
  primary-key batches with a checkpoint per model, so a job whose worker died resumes where it stopped
  (salesapp.jobs watches it). The values do not change, so no event is published and no audit row written.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from salesapp.jobs import JobKind, job_claim, job_heartbeat, job_send, register_job_kind
from salesapp.locks import rows_lock
from salesapp.models import ReencryptionJob
from salesapp.normalize import normalize_email, normalize_phone

BLIND_INDEX_LENGTH = 64  # hex digits of an HMAC-SHA256
NORMALIZERS = {"email": normalize_email, "phone": normalize_phone, "audit": str}
REENCRYPTION_BATCH = 500


@functools.lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: personal data cannot be encrypted")
    return MultiFernet([Fernet(key) for key in keys])


def _cipher() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    """The Fernet token of `value` under the newest key ("" stays "": an empty field says nothing)."""
    return _cipher().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    """The value of a token made under any configured key (cryptography's InvalidToken if none opens it)."""
    return _cipher().decrypt(token.encode()).decode() if token else ""


def blind_index(kind: str, value: str) -> str:
    """The keyed hash that equality lookups compare for `value` taken as a `kind` ("email", "phone", "audit").

    Values that normalise to the same thing ("Ann@X.com ", "ann@x.com") hash alike; an empty value
    hashes to "" so that no two empty fields ever look equal.
    """
    normalized = NORMALIZERS[kind](value)
    if not normalized:
        return ""
    message = f"{kind}:{normalized}".encode()
    return hmac.new(settings.BLIND_INDEX_KEY.encode(), message, hashlib.sha256).hexdigest()


def audit_mask(value: str) -> str:
    """What the audit log keeps of an encrypted field's old and new value: a keyed hash, never the value.

    The log still shows that the value changed, and an auditor holding a value can check it against the entry.
    """
    return f"hmac:{blind_index('audit', value)[:16]}" if value not in ("", "None") else value


class EncryptedTextField(models.TextField):
    """A text column kept encrypted (see the module docstring); reads give the plain value back."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None  # ciphertext compares equal to nothing: use the field's blind index


def encrypted_fields() -> dict[type[models.Model], list[str]]:
    """Every model with encrypted fields, and their names (what the re-encryption job rewrites)."""
    found = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found[model] = names
    return found


# --- re-encryption after a key rotation ----------------------------------------------------------------------

def reencryption_job_start() -> ReencryptionJob:
    """Queue a job that rewrites every encrypted value under the newest key (after a rotation)."""
    job = ReencryptionJob.objects.create(queued_at=timezone.now())
    job_send(_run_task(), job.pk)
    return job


def _run_task():
    from salesapp.tasks import reencryption_run_task  # the task module imports this one: a real cycle

    return reencryption_run_task


def reencryption_job_run(job_id: int) -> ReencryptionJob:
    """Run (or resume from its checkpoint) one re-encryption job; a job another worker holds is left alone."""
    if not job_claim("reencryption", job_id):
        return ReencryptionJob.objects.get(pk=job_id)
    with job_heartbeat("reencryption", job_id):
        for model, names in sorted(encrypted_fields().items(), key=lambda item: item[0]._meta.label):
            while _reencrypt_batch(job_id, model, names):
                pass
    ReencryptionJob.objects.filter(pk=job_id).update(status=ReencryptionJob.Status.SUCCEEDED,
                                                     finished_at=timezone.now(), heartbeat_at=None)
    return ReencryptionJob.objects.get(pk=job_id)


@transaction.atomic
def _reencrypt_batch(job_id: int, model: type[models.Model], names: list[str]) -> bool:
    """Rewrite the next batch of `model`'s rows and move the checkpoint with them (one transaction, so a
    resumed job neither skips nor repeats a batch). The rows are locked: a concurrent edit is never undone."""
    job = rows_lock(ReencryptionJob.objects.filter(pk=job_id)).get()
    label = model._meta.label
    after = job.checkpoint.get(label, 0)
    rows = list(rows_lock(model._base_manager.filter(pk__gt=after)).only("pk", *names)[:REENCRYPTION_BATCH])
    if not rows:
        return False
    model._base_manager.bulk_update(rows, names)
    job.checkpoint[label] = rows[-1].pk
    job.processed += len(rows)
    job.save(update_fields=["checkpoint", "processed"])
    return True


def reencryption_job_fail(job_id: int, reason: str) -> None:
    """End a job whose worker died too often, visibly; a new job resumes nothing and simply runs again."""
    ReencryptionJob.objects.filter(pk=job_id).exclude(status=ReencryptionJob.Status.SUCCEEDED).update(
        status=ReencryptionJob.Status.FAILED, finished_at=timezone.now(), message=f"Stopped: {reason}.")


def register_reencryption_jobs() -> None:
    """Put re-encryption jobs under the job watchdog (a job whose worker died resumes from its checkpoint)."""
    register_job_kind("reencryption", JobKind(
        model=ReencryptionJob, waiting=(ReencryptionJob.Status.PENDING,), running=ReencryptionJob.Status.RUNNING,
        queued_field="queued_at", ready=Q(queued_at__isnull=False),
        send=lambda pk: job_send(_run_task(), pk), fail=reencryption_job_fail, progress=None,
    ))


def encrypt_existing_rows(model: type[models.Model], blind: dict[str, tuple[str, str]]) -> None:
    """Encrypt the plain values of a table being moved to encrypted fields, and fill their blind indexes.

    For data migrations: `model` is the historical model, whose fields are still plain text at that step;
    `blind` maps each field to encrypt to (its blind index field, its kind). Rows go in primary-key batches.
    """
    names = list(blind)
    after = 0
    while True:
        rows = list(model._base_manager.filter(pk__gt=after).order_by("pk").only("pk", *names)[:REENCRYPTION_BATCH])
        if not rows:
            return
        for row in rows:
            for name, (index_field, kind) in blind.items():
                value = getattr(row, name) or ""
                setattr(row, index_field, blind_index(kind, value))
                setattr(row, name, encrypt(value))
        model._base_manager.bulk_update(rows, [*names, *(index_field for index_field, _ in blind.values())])
        after = rows[-1].pk


def migration_steps(app_label: str, model_name: str, *, old_indexes: tuple[str, ...], fts_index: str,
                    search_fields: tuple[str, ...]):
    """The data steps of a migration that moves a model's email and phone to encrypted fields.

    (drop the PostgreSQL indexes that held the plain values, encrypt the rows and fill their blind
    indexes, rebuild the full-text index over `search_fields`), as RunPython functions; SQLite has no
    such indexes.
    """

    def drop_plain_indexes(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name in old_indexes:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    def encrypt_rows(apps, schema_editor):
        encrypt_existing_rows(apps.get_model(app_label, model_name), {
            "email": ("email_blind_index", "email"), "phone": ("phone_blind_index", "phone")})

    def full_text_index(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        from django.contrib.postgres.indexes import GinIndex  # PostgreSQL only: imported where it runs
        from django.contrib.postgres.search import SearchVector

        schema_editor.add_index(apps.get_model(app_label, model_name),
                                GinIndex(SearchVector(*search_fields, config="simple"), name=fts_index))

    return drop_plain_indexes, encrypt_rows, full_text_index
