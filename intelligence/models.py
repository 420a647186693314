"""Intelligence: scoring models and next-best-action advice.

The scores themselves live on the leads and deals (written by those apps), with the model that made them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from salesapp.querysets import RestrictedManager


class Kind(models.TextChoices):
    DEAL = "deal", "Deal"
    LEAD = "lead", "Lead"


class ScoringModel(models.Model):
    """One trained, versioned scoring model with its holdout metrics; one active per kind."""

    class Algorithm(models.TextChoices):
        LIGHTGBM = "lightgbm", "LightGBM"
        NAIVE_BAYES = "naive_bayes", "Naive Bayes"

    kind = models.CharField(max_length=4, choices=Kind.choices)
    version = models.PositiveIntegerField()
    algorithm = models.CharField(max_length=12, choices=Algorithm.choices)
    metrics = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="Feature vocabulary and scaling the model needs")
    is_active = models.BooleanField(default=False)
    trained_at = models.DateTimeField(default=timezone.now)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    blob = models.TextField(help_text="LightGBM booster text or naive Bayes counts (JSON)")

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="scoring_model_version_once"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_active=True), name="scoring_model_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.version} ({self.algorithm})"

    @property
    def label(self) -> str:
        return f"{self.get_algorithm_display()} v{self.version}"


class RescoreRequest(models.Model):
    """A record whose score inputs changed, waiting for the next coalesced rescore (one row per record)."""

    kind = models.CharField(max_length=4, choices=Kind.choices)
    record_id = models.BigIntegerField()
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "record_id"], name="rescore_request_once")]
        indexes = [models.Index(fields=["requested_at"], name="rescore_request_age_idx")]

    def __str__(self) -> str:
        return f"rescore {self.kind} {self.record_id}"


class Recommendation(models.Model):
    """A next best action suggested for an open lead or deal, and what the user did with it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    opportunity = models.ForeignKey(
        "opportunities.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=40, help_text="The situation that raised it, e.g. no_recent_activity")
    action = models.CharField(max_length=200)
    reason = models.CharField(max_length=300)
    priority = models.FloatField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True, default="", help_text="The task created on accept")

    objects = RestrictedManager()

    class Meta:
        ordering = ["-priority", "id"]
        indexes = [
            models.Index(fields=["opportunity", "status"], name="reco_opp_status_idx"),
            models.Index(fields=["lead", "status"], name="reco_lead_status_idx"),
            models.Index(fields=["code", "status"], name="reco_code_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"
