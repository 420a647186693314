"""Leads: people who might buy, before they become deals."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from salesapp.crypto import BLIND_INDEX_LENGTH, EncryptedTextField
from salesapp.models import PersonalDataModel, TimeStampedModel
from salesapp.querysets import RestrictedManager


class Lead(TimeStampedModel, PersonalDataModel):
    """A prospective buyer captured from a form, an import or by hand."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        UNQUALIFIED = "unqualified", "Unqualified"
        CONVERTED = "converted", "Converted"

    # No longer worked: the lists hide them unless asked.
    CLOSED_STATUSES = (Status.UNQUALIFIED, Status.CONVERTED)

    source = models.CharField(max_length=50, blank=True, default="")
    # The record's id in the system it was imported from (another CRM); re-importing the same id updates it.
    external_id = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    # Personal data is encrypted at rest; equality (dedup, imports, exact search) compares the blind indexes.
    email = EncryptedTextField()
    email_blind_index = models.CharField(max_length=BLIND_INDEX_LENGTH, db_index=True, editable=False, default="")
    phone = EncryptedTextField(blank=True, default="")
    phone_blind_index = models.CharField(max_length=BLIND_INDEX_LENGTH, blank=True, default="", editable=False,
                                         db_index=True)
    company = models.CharField(max_length=200, blank=True, default="")
    normalized_company = models.CharField(max_length=200, blank=True, default="", editable=False)
    title = models.CharField(max_length=150, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    website = models.CharField(max_length=200, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")
    state = models.CharField(max_length=50, blank=True, default="")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    assignment_reason = models.TextField(blank=True, default="")
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    converted_opportunity = models.ForeignKey(
        "opportunities.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_account = models.ForeignKey(
        "opportunities.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_contact = models.ForeignKey(
        "opportunities.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    activity_count = models.PositiveIntegerField(default=0, editable=False)
    score_model = models.CharField(max_length=60, blank=True, default="", editable=False)
    score_factors = models.JSONField(default=list, blank=True, editable=False)
    queue = models.CharField(max_length=100, blank=True, default="", help_text="Default queue when no territory matched")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_leads", editable=False
    )

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                    name="lead_external_id_uniq"),
        ]
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            models.Index(fields=["assigned_to", "status"], name="lead_assigned_idx"),
            models.Index(fields=["-score"], name="lead_score_desc_idx"),
            models.Index(fields=["territory", "status"], name="lead_territory_idx"),
            models.Index(fields=["normalized_company"], name="lead_norm_company_idx"),
            models.Index(fields=["assigned_to", "assigned_at"], name="lead_assigned_at_idx"),
            # the list's sort orders, each with the id tiebreak ("newest" is created time)
            models.Index(fields=["created_at", "id"], name="lead_created_sort_idx"),
            models.Index(fields=["last_name", "first_name", "id"], name="lead_name_sort_idx"),
            models.Index(fields=["company", "id"], name="lead_company_sort_idx"),
        ]

    def __str__(self) -> str:
        # Never the email: this is what the audit log and histories keep, and the email is kept only encrypted.
        name = f"{self.first_name} {self.last_name}".strip()
        return name or f"Lead {self.pk}"

    @property
    def outcome(self) -> str:
        """What became of a converted lead: its deal's state now ("open", "won", "lost", or "deleted").

        A converted lead shows this instead of a score; "" while the lead is still worked.
        """
        if self.status != self.Status.CONVERTED:
            return ""
        deal = self.converted_opportunity
        if deal is None:
            return "deleted"
        return deal.outcome or "open"


class LeadHistory(models.Model):
    """One change in a lead's life (status, owner, score, conversion, merge), for its timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        SCORED = "scored", "Score changed"
        CONVERTED = "converted", "Converted"
        MERGED = "merged", "Merged"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_value = models.CharField(max_length=200, blank=True, default="")
    to_value = models.CharField(max_length=200, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "lead history"
        indexes = [models.Index(fields=["lead", "-created_at"], name="lead_history_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.from_value} -> {self.to_value}"


class WebToLeadForm(models.Model):
    """A public form on a website whose submissions become leads (set up by admins)."""

    name = models.CharField(max_length=100)
    key = models.SlugField(max_length=64, unique=True, help_text="Public id in /api/v1/web-to-lead/<key>/")
    source = models.CharField(max_length=50, help_text="Source label the leads get, e.g. 'Website: pricing page'")
    allowed_origins = models.TextField(
        blank=True, default="", help_text="One origin per line (https://www.example.com); empty accepts any"
    )
    honeypot_field = models.CharField(
        max_length=50, default="nickname", help_text="A hidden field people leave empty; bots fill it"
    )
    rate_limit_per_hour = models.PositiveIntegerField(default=10, help_text="Submissions accepted per IP per hour")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in self.allowed_origins.splitlines() if o.strip()]


class LeadRoutingConfig(models.Model):
    """Where leads go when no territory matches them: the default queue (one row)."""

    queue_name = models.CharField(max_length=100, default="Unassigned leads")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who works the default queue; empty leaves its leads unassigned",
    )

    class Meta:
        verbose_name = "lead routing settings"
        verbose_name_plural = "lead routing settings"

    def __str__(self) -> str:
        return self.queue_name


class RoutingCursor(models.Model):
    """Who in a territory got the last round-robin lead, so the next one goes to the member after them."""

    territory_id = models.BigIntegerField(unique=True)
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"territory {self.territory_id}: last {self.last_user_id}"
