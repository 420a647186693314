"""Activities: emails, calls, meetings, demos and tasks, stored in SQL (the embedded default).

When `MONGODB_URI` is set the same documents live in MongoDB instead (see
activities.store); this model then stays empty.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from salesapp.querysets import RestrictedManager


class ActivityType(models.TextChoices):
    EMAIL = "email", "Email"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"
    TASK = "task", "Task"


class Activity(models.Model):
    """One email, call, meeting, demo or task, linked to a lead, deal, account or contact."""

    type = models.CharField(max_length=10, choices=ActivityType.choices)
    subject = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    # The record's id in the system it was imported from (another CRM); re-importing the same id updates it.
    external_id = models.CharField(max_length=100, blank=True, default="")
    lead_id = models.BigIntegerField(null=True, blank=True)
    opportunity_id = models.BigIntegerField(null=True, blank=True)
    account_id = models.BigIntegerField(null=True, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=100, blank=True, default="")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # The moment the timeline files it under: completed, else scheduled, else created.
    occurred_at = models.DateTimeField(default=timezone.now)
    participants = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                    name="activity_external_id_uniq"),
        ]
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead_id", "-occurred_at", "-id"], name="activity_lead_tl_idx"),
            models.Index(fields=["opportunity_id", "-occurred_at", "-id"], name="activity_opp_tl_idx"),
            models.Index(fields=["account_id", "-occurred_at", "-id"], name="activity_account_tl_idx"),
            models.Index(fields=["user", "-occurred_at", "-id"], name="activity_user_tl_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="activity_tl_idx"),
            models.Index(fields=["user", "completed_at", "due_at"], name="activity_user_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.subject or self.pk}"
