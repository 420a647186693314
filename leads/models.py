"""Leads: people who might buy, before they become deals."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from salesapp.models import TimeStampedModel


class Lead(TimeStampedModel):
    """A prospective buyer captured from a form, an import or by hand."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        UNQUALIFIED = "unqualified", "Unqualified"
        CONVERTED = "converted", "Converted"

    source = models.CharField(max_length=50, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    email = models.EmailField()
    normalized_email = models.CharField(max_length=254, db_index=True, editable=False, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    normalized_phone = models.CharField(max_length=40, blank=True, default="", editable=False, db_index=True)
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

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            models.Index(fields=["assigned_to", "status"], name="lead_assigned_idx"),
            models.Index(fields=["-score"], name="lead_score_desc_idx"),
            models.Index(fields=["territory", "status"], name="lead_territory_idx"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email
