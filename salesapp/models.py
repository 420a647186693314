"""Shared-kernel models: users, the event outbox, consumer receipts, shares."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from salesapp.managers import UserManager
from salesapp.querysets import RestrictedManager
from salesapp.roles import Role


class TimeStampedModel(models.Model):
    """Abstract base: creation and last-change times."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LawfulBasis(models.TextChoices):
    """Why the company may process a person's data (GDPR article 6)."""

    CONSENT = "consent", "Consent"
    CONTRACT = "contract", "Contract"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
    LEGAL_OBLIGATION = "legal_obligation", "Legal obligation"


class PersonalDataModel(models.Model):
    """Abstract base of records about a person (leads, contacts): consent, lawful basis, CCPA opt-out, erasure.

    A person whose consent was withdrawn, or who opted out of sale or sharing, is left out of exports and
    integrations (`salesapp.privacy.shareable`); an erased record keeps its row (figures and deals stay whole)
    with its personal fields blanked and `erased_at` set.
    """

    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis.choices, blank=True, default="")
    consent_source = models.CharField(max_length=100, blank=True, default="",
                                      help_text="Where the person gave consent, e.g. 'Website: pricing page form'")
    consent_at = models.DateTimeField(null=True, blank=True, help_text="When consent was given")
    consent_withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When consent was withdrawn")
    do_not_sell = models.BooleanField(default=False, help_text="Opted out of sale or sharing (CCPA)")
    erased_at = models.DateTimeField(null=True, blank=True, editable=False,
                                     help_text="When the person's data was erased (a data subject request or retention)")

    class Meta:
        abstract = True


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: rep, manager, admin or read-only viewer."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.SALES_REP, db_index=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    calendar_token = models.CharField(max_length=64, blank=True, default="")
    # The OpenID provider's subject ("sub") of whoever signed in through single sign-on: its access tokens name it.
    oidc_subject = models.CharField(max_length=255, null=True, blank=True, unique=True, editable=False)
    # Bumped when the user's credentials are revoked (password, deactivation, role): every session
    # and token issued before it stops working (salesapp.services.user_credentials_revoke).
    token_epoch = models.PositiveIntegerField(default=0, editable=False)
    # Compensation, restricted by the field policy (salesapp.fields).
    on_target_earnings = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Yearly on-target earnings (restricted field: compensation)")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["manager"], name="user_manager_idx")]
        permissions = []  # the role matrix lives in salesapp.roles and is created by roles_sync

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    def _get_session_auth_hash(self, secret=None) -> str:
        """The session's proof of credentials: Django's (an HMAC of the password) with the token epoch.

        Django compares it (and its SECRET_KEY_FALLBACKS variants, hence this hook) on every request;
        a session whose hash no longer matches is ended, so bumping the epoch ends every session
        of the user without looking for them. Epoch 0 keeps Django's own hash.
        """
        if not self.token_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "salesapp.User.session_auth_hash", f"{self.password}:{self.token_epoch}", secret=secret, algorithm="sha256",
        ).hexdigest()

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN


class OutboxEvent(models.Model):
    """A domain event written in the transaction that caused it, awaiting relay."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead-lettered"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True, help_text="When every consumer had applied it")
    last_error = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="",
                                  help_text="The request (or task) that caused it, for following it through the logs")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            # The reconciler's scan: sent rows some consumer has not applied yet (a small, moving set).
            models.Index(fields=["sent_at"], condition=models.Q(status="sent", applied_at__isnull=True),
                         name="outbox_unapplied_idx"),
            models.Index(fields=["name", "-created_at"], name="outbox_name_idx"),
            models.Index(fields=["-created_at"], name="outbox_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class AppliedEvent(models.Model):
    """Receipt that a consumer applied an event, so a redelivery changes nothing."""

    consumer = models.CharField(max_length=100)
    event_id = models.UUIDField()
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "event_id"], name="applied_event_once")]

    def __str__(self) -> str:
        return f"{self.consumer} applied {self.event_id}"


class ConsumerFailure(models.Model):
    """An (event, consumer) pair that failed: retried alone with backoff, then dead-lettered until requeued."""

    class Status(models.TextChoices):
        RETRYING = "retrying", "Retrying"
        DEAD = "dead", "Dead-lettered"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="failures")
    consumer = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RETRYING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_failed_at"]
        constraints = [models.UniqueConstraint(fields=["event", "consumer"], name="consumer_failure_once")]
        indexes = [models.Index(fields=["status", "-last_failed_at"], name="consumer_failure_status_idx")]

    def __str__(self) -> str:
        return f"{self.consumer} failed on {self.event_id} ({self.status})"


class JobLiveness(models.Model):
    """Abstract base of long jobs: the running worker's heartbeat and how many times a worker took the job up."""

    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the worker running it")
    runs = models.PositiveIntegerField(default=0, help_text="How many times a worker took the job up")

    class Meta:
        abstract = True


class ReencryptionJob(JobLiveness):
    """A pass over every encrypted value after a key rotation, rewriting it under the newest key."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    checkpoint = models.JSONField(default=dict, blank=True, help_text="Model label -> last primary key rewritten")
    processed = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Re-encryption {self.pk} ({self.status})"


class RecordShare(models.Model):
    """An explicit grant of one record to one user, outside territories and hierarchy."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "user"], name="record_share_once")
        ]
        indexes = [models.Index(fields=["user", "content_type"], name="share_user_ct_idx")]

    def __str__(self) -> str:
        return f"{self.content_type} {self.object_id} shared with {self.user}"


class ImportJob(JobLiveness):
    """A CSV file being imported into one kind of record, with its progress and row errors."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class OnError(models.TextChoices):
        ABORT = "abort", "Write nothing if any row is bad"
        SKIP = "skip", "Write the good rows, report the bad ones"

    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    filename = models.CharField(max_length=255, blank=True, default="")
    # The upload travels with the job so any worker can run it without shared disk.
    content = models.BinaryField(editable=False)
    mapping = models.JSONField(default=dict, blank=True, help_text="CSV header -> field name")
    dry_run = models.BooleanField(default=False)
    on_error = models.CharField(max_length=5, choices=OnError.choices, default=OnError.ABORT)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the mapping is being chosen")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else (100 if self.is_finished else 0)


class DataAccess(models.Model):
    """One read of records: who saw what (a record's page, a list, a search, an export), when and from where.

    Written after the response, one insert per request (salesapp.access_log); deleted after the
    "data_access" retention policy's days (salesapp.retention). Changes are audited apart, by django-auditlog.
    """

    class Kind(models.TextChoices):
        DETAIL = "detail", "Record detail"
        LIST = "list", "List"
        SEARCH = "search", "Search"
        EXPORT = "export", "Export"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    at = models.DateTimeField(default=timezone.now)
    address = models.GenericIPAddressField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    model = models.CharField(max_length=100, help_text='The kind of record, e.g. "leads.lead"')
    object_ids = models.JSONField(default=list, blank=True, help_text="The records seen (at most 200 ids)")
    count = models.PositiveIntegerField(null=True, blank=True, help_text="How many records (rows of an export)")
    filters = models.JSONField(default=dict, blank=True, help_text="The filter or search asked for")
    path = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-at"]
        verbose_name = "data access"
        verbose_name_plural = "data access log"
        indexes = [
            models.Index(fields=["at"], name="dataaccess_at_idx"),
            models.Index(fields=["user", "-at"], name="dataaccess_user_idx"),
            models.Index(fields=["model", "-at"], name="dataaccess_model_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.model} at {self.at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A person's named filter and sort on one list page (the query string they saved), to pick again later."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    list_key = models.CharField(max_length=40, help_text='The list it belongs to, e.g. "deals"')
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True, default="", help_text="The list's filters, sort and columns")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "list_key", "name"], name="savedview_unique_name")]

    def __str__(self) -> str:
        return self.name

class PicklistValue(models.Model):
    """One entry of an admin-managed list that forms offer as choices (an industry, a lead source)."""

    class Kind(models.TextChoices):
        INDUSTRY = "industry", "Industry"
        SOURCE = "source", "Lead source"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What records store: at most 50 characters, the shortest field a list fills (a lead's source).
    value = models.CharField(max_length=50, help_text="Stored on the records, e.g. 'financial services'")
    label = models.CharField(max_length=100, help_text="Shown in the forms, e.g. 'Financial services'")
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first")
    is_active = models.BooleanField(default=True, help_text="Offered in forms (records keep a retired value)")

    class Meta:
        ordering = ["kind", "position", "label"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="picklist_value_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class PrivacyRequest(JobLiveness):
    """A data subject's request (GDPR access or erasure, CCPA opt-out), run as a long job, with its receipt.

    The person is named by email or by one of their records; what was found, sent or changed is kept in
    `receipt` (counts per store), and an access request's archive (a zip of JSON) in `archive`.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access and portability (archive)"
        ERASURE = "erasure", "Erasure"
        OPT_OUT = "opt_out", "Opt-out of sale or sharing (CCPA)"

    Status = ImportJob.Status  # a long job's life, as an import's

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # Who the request is about: kept until the request ran; an erasure keeps only its keyed hash after.
    email = models.CharField(max_length=254, blank=True, default="")
    subject_key = models.CharField(max_length=64, blank=True, default="", editable=False,
                                   help_text="Keyed hash of the person's email (salesapp.privacy.email_key)")
    record_kind = models.CharField(max_length=20, blank=True, default="",
                                   help_text="Or the kind of a record of theirs (lead, contact)")
    record_id = models.BigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, default="", help_text="How the person asked and how they were identified")
    receipt = models.JSONField(default=dict, blank=True, editable=False)
    archive = models.BinaryField(null=True, blank=True, editable=False)
    message = models.TextField(blank=True, default="", editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="privacyrequest_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.pk} ({self.status})"


class ErasureTombstone(models.Model):
    """A person who was erased: the keyed hash of their email, so the same email is never captured again."""

    email_key = models.CharField(max_length=64, unique=True)
    request = models.ForeignKey(PrivacyRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"erased {self.email_key[:12]}…"


class RetentionPolicy(models.Model):
    """How long one kind of data is kept, and what happens to it then (anonymised or deleted)."""

    data_type = models.CharField(max_length=40, unique=True,
                                 help_text="One of the kinds apps register (salesapp.retention)")
    keep_days = models.PositiveIntegerField(help_text="Days kept (since the last activity, for leads)")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["data_type"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.data_type}: {self.keep_days} days"


class RetentionRun(models.Model):
    """One pass of the retention policies: a dry run counts, a real run changes; per policy, how many records."""

    dry_run = models.BooleanField(default=True)
    at = models.DateTimeField(default=timezone.now, help_text="The moment the policies' ages were counted from")
    report = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{'dry run' if self.dry_run else 'run'} at {self.at:%Y-%m-%d %H:%M}"
