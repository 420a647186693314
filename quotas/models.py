"""Quotas: a target for a user or a territory over a period, and how far it is attained."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesapp.models import TimeStampedModel
from salesapp.querysets import RestrictedManager


class Quota(TimeStampedModel):
    """A sales target for one user or one territory over one period (quarter, month or fiscal year)."""

    class Type(models.TextChoices):
        REVENUE = "revenue", "Revenue"
        DEALS = "deals", "Deals won"
        ACTIVITIES = "activities", "Activities completed"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    period = models.CharField(max_length=10, help_text="Q1_2026, 2026-03 or FY2026")
    period_kind = models.CharField(max_length=12, editable=False)
    quota_type = models.CharField(max_length=12, choices=Type.choices, default=Type.REVENUE)
    quota_amount = models.DecimalField(max_digits=16, decimal_places=2)
    attainment_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    attainment_percentage = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    start_date = models.DateField(editable=False)
    end_date = models.DateField(editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="The quota this one was allocated from",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    attained_at = models.DateTimeField(null=True, blank=True, help_text="When it first reached 100%")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        ordering = ["period", "id"]
        indexes = [
            models.Index(fields=["user", "period"], name="quota_user_period_idx"),
            models.Index(fields=["territory", "period"], name="quota_territory_period_idx"),
            models.Index(fields=["start_date", "end_date"], name="quota_window_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(territory__isnull=True))
                | (Q(user__isnull=True) & Q(territory__isnull=False)),
                name="quota_user_xor_territory",
            ),
            models.UniqueConstraint(
                fields=["user", "period", "quota_type"], condition=Q(user__isnull=False), name="quota_user_once"
            ),
            models.UniqueConstraint(
                fields=["territory", "period", "quota_type"], condition=Q(territory__isnull=False),
                name="quota_territory_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.period} {self.get_quota_type_display()}"

    @property
    def holder(self):
        return self.user if self.user_id else self.territory

    @property
    def holder_name(self) -> str:
        return str(self.holder)

    @property
    def gap(self):
        """Quota left to attain (negative when exceeded)."""
        return self.quota_amount - self.attainment_amount
