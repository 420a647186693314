"""Accounts, contacts, opportunities, their stages and history."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils import timezone

from salesapp.crypto import BLIND_INDEX_LENGTH, EncryptedTextField
from salesapp.models import PersonalDataModel, TimeStampedModel
from salesapp.querysets import RestrictedManager


class Account(TimeStampedModel):
    """A company the team sells to."""

    name = models.CharField(max_length=200)
    # The record's id in the system it was imported from (another CRM); re-importing the same id updates it.
    external_id = models.CharField(max_length=100, blank=True, default="")
    normalized_name = models.CharField(max_length=200, db_index=True, editable=False, default="")
    website_domain = models.CharField(max_length=200, blank=True, default="", db_index=True)
    industry = models.CharField(max_length=100, blank=True, default="")
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    billing_country = models.CharField(max_length=2, blank=True, default="")
    billing_state = models.CharField(max_length=50, blank=True, default="")
    billing_postal_code = models.CharField(max_length=20, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subsidiaries")
    last_activity_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                    name="account_external_id_uniq"),
        ]
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner"], name="account_owner_idx"),
            models.Index(fields=["territory"], name="account_territory_idx"),
            # the list's sort orders, each with the id tiebreak
            models.Index(fields=["name", "id"], name="account_name_sort_idx"),
            models.Index(fields=["annual_revenue", "id"], name="account_revenue_sort_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel, PersonalDataModel):
    """A person at an account, with their role in the buying group."""

    class BuyingRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
        CHAMPION = "champion", "Champion"
        INFLUENCER = "influencer", "Influencer"
        TECHNICAL_BUYER = "technical_buyer", "Technical buyer"
        USER = "user", "User"
        OTHER = "other", "Other"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100)
    # The record's id in the system it was imported from (another CRM); re-importing the same id updates it.
    external_id = models.CharField(max_length=100, blank=True, default="")
    # Personal data is encrypted at rest; matching and exact search compare the blind indexes.
    email = EncryptedTextField(blank=True, default="", validators=[validate_email])
    email_blind_index = models.CharField(max_length=BLIND_INDEX_LENGTH, blank=True, default="", editable=False,
                                         db_index=True)
    phone = EncryptedTextField(blank=True, default="")
    phone_blind_index = models.CharField(max_length=BLIND_INDEX_LENGTH, blank=True, default="", editable=False,
                                         db_index=True)
    title = models.CharField(max_length=150, blank=True, default="")
    buying_role = models.CharField(max_length=20, choices=BuyingRole.choices, blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                    name="contact_external_id_uniq"),
        ]
        ordering = ["last_name", "first_name"]
        indexes = [
            # the list's sort orders, each with the id tiebreak
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Stage(models.Model):
    """A pipeline stage and its default probability (admins may change it)."""

    key = models.CharField(max_length=20, primary_key=True)
    label = models.CharField(max_length=50)
    order = models.PositiveSmallIntegerField()
    default_probability = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.label


class LossReason(models.Model):
    """An admin-managed reason a deal was lost."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LiveDealManager(RestrictedManager):
    """Deals not archived: what every working query starts from."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at__isnull=True)


class ArchivedDealManager(RestrictedManager):
    """Archived deals: opened read-only, restored by opportunities.archive."""

    def get_queryset(self):
        return super().get_queryset().filter(archived_at__isnull=False)


class Opportunity(TimeStampedModel):
    """A deal being worked through the pipeline."""
    # The record's id in the system it was imported from (another CRM); re-importing the same id updates it.
    external_id = models.CharField(max_length=100, blank=True, default="")

    class ForecastCategory(models.TextChoices):
        PIPELINE = "pipeline", "Pipeline"
        BEST_CASE = "best_case", "Best case"
        COMMIT = "commit", "Commit"
        CLOSED = "closed", "Closed"
        OMITTED = "omitted", "Omitted"

    name = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    lead_id = models.BigIntegerField(null=True, blank=True, help_text="The lead this deal was converted from")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_column="stage")
    probability = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(0), MaxValueValidator(100)])
    probability_is_manual = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    # Restricted by the field policy (salesapp.fields): absent for roles the admin has not allowed.
    cost = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True,
                               validators=[MinValueValidator(0)],
                               help_text="What delivering the deal costs us (restricted field)")
    margin = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(-100), MaxValueValidator(100)],
                                 help_text="Gross margin in percent of the amount (restricted field)")
    expected_close_date = models.DateField(null=True, blank=True)
    actual_close_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    deal_score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(100)],
                                                  editable=False)
    score_model = models.CharField(max_length=60, blank=True, default="", editable=False,
                                   help_text="The model that made deal_score, e.g. LightGBM v3 or Rules v1")
    score_factors = models.JSONField(default=list, blank=True, editable=False,
                                     help_text="Why: reasons as {factor, points, detail}")
    loss_reason = models.ForeignKey(LossReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    close_reason = models.TextField(blank=True, default="")
    next_step = models.CharField(max_length=255, blank=True, default="")
    forecast_category = models.CharField(
        max_length=10, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    forecast_category_is_manual = models.BooleanField(default=False)
    source = models.CharField(max_length=50, blank=True, default="")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="opportunities")
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="When the closed deal went to the archive (opportunities.archive)")

    # Working queries (lists, search, boards, forecasts, exports) see live deals only: an archived deal
    # is out of all of them because `objects` itself leaves it out. `archived` opens the archive;
    # `everything` is for what counts history whole (analytics, forecast accuracy).
    objects = LiveDealManager()
    archived = ArchivedDealManager()
    everything = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                    name="opportunity_external_id_uniq"),
        ]
        ordering = ["-created_at"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["stage"], name="opp_stage_idx"),
            models.Index(fields=["owner", "stage"], name="opp_owner_stage_idx"),
            models.Index(fields=["expected_close_date"], name="opp_close_date_idx"),
            models.Index(fields=["territory", "stage"], name="opp_territory_stage_idx"),
            models.Index(fields=["actual_close_date"], name="opp_actual_close_idx"),
            # the list's sort orders, each with the id tiebreak
            models.Index(fields=["amount", "id"], name="opp_amount_sort_idx"),
            models.Index(fields=["expected_close_date", "id"], name="opp_close_sort_idx"),
            models.Index(fields=["name", "id"], name="opp_name_sort_idx"),
            models.Index(fields=["created_at", "id"], name="opp_created_sort_idx"),

            models.Index(fields=["archived_at"], name="opp_archived_idx", condition=models.Q(archived_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def outcome(self) -> str:
        """"won" or "lost" once the deal is closed (a closed deal shows its outcome, not a score); "" while open."""
        if not self.stage.is_closed:
            return ""
        return "won" if self.stage.is_won else "lost"


class StageHistory(models.Model):
    """One stage change of an opportunity: from, to, who, when, days in the previous stage."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_history")
    from_stage = models.CharField(max_length=20, blank=True, default="")
    to_stage = models.CharField(max_length=20)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    days_in_previous_stage = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["opportunity", "-changed_at"], name="stagehist_opp_idx")]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage} -> {self.to_stage}"


class ForecastAdjustment(models.Model):
    """A manager's override of a report's commit or best case for one period, with the reason.

    Rows are never changed: the newest row for (user, period, category) is the one in force,
    and the older rows are the history of adjustments.
    """

    class Category(models.TextChoices):
        COMMIT = "commit", "Commit"
        BEST_CASE = "best_case", "Best case"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_adjustments")
    period = models.CharField(max_length=10, help_text="Q1_2026 or 2026-01")
    category = models.CharField(max_length=10, choices=Category.choices)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    reason = models.TextField()
    adjusted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["period", "user", "category", "-created_at"], name="fc_adjust_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} {self.category} = {self.amount}"


class ForecastSubmission(models.Model):
    """A user's forecast call for a period: their commit, best case and notes.

    A rep's call covers their own deals; a manager's covers their whole reporting subtree.
    The newest submission made before the period ended is the one accuracy is measured against.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_submissions")
    period = models.CharField(max_length=10, help_text="Q1_2026 or 2026-01")
    commit = models.DecimalField(max_digits=16, decimal_places=2)
    best_case = models.DecimalField(max_digits=16, decimal_places=2)
    notes = models.TextField(blank=True, default="")
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["period", "user", "-submitted_at"], name="fc_submission_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} commit {self.commit}"


class ForecastSnapshot(models.Model):
    """A weekly picture of one user's forecast roll-up for a period, for trend charts."""

    class Scope(models.TextChoices):
        PERSONAL = "personal", "Own deals"
        TEAM = "team", "Reporting subtree"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="forecast_snapshots")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    period = models.CharField(max_length=10)
    week_start = models.DateField(help_text="Monday of the week the snapshot belongs to")
    closed_won = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    commit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    best_case = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    adjusted_commit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    adjusted_best_case = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    taken_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        ordering = ["period", "week_start"]
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "period", "week_start"], name="fc_snapshot_once_a_week")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.scope} {self.period} {self.week_start}"


class ArchiveJob(models.Model):
    """A run of the archival of closed deals closed before a date: resumable, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    closed_before = models.DateField(help_text="Closed deals with an actual close date before this are archived")
    total = models.PositiveIntegerField(default=0, help_text="Deals to archive, counted when the job started")
    processed = models.PositiveIntegerField(default=0)
    # The checkpoint: deals are archived in id order, so a resumed job starts after the last id done.
    last_id = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Archive of deals closed before {self.closed_before} ({self.get_status_display()})"


class ArchivedOpportunity(Opportunity):
    """An archived deal as the admin console lists it: read-only, restorable (opportunities.archive)."""

    objects = ArchivedDealManager()

    class Meta:
        proxy = True
        verbose_name = "archived opportunity"
        verbose_name_plural = "archived opportunities"
