"""Territories: versions (territory models), the hierarchy, rules and members."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from salesapp.models import JobLiveness, TimeStampedModel
from salesapp.querysets import RestrictedManager


class TerritoryModel(TimeStampedModel):
    """A version of the territory plan: one is active, others are being planned or archived."""

    class State(models.TextChoices):
        PLANNING = "planning", "Planning"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNING, db_index=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["state"], condition=Q(state="active"), name="one_active_territory_model")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"


class Territory(TimeStampedModel):
    """A slice of the market a team works: by geography, account size or industry."""

    class Type(models.TextChoices):
        GEOGRAPHIC = "geographic", "Geographic"
        ACCOUNT = "account", "Account"
        INDUSTRY = "industry", "Industry"

    class RoutingPolicy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round-robin among members"
        LEAST_OPEN = "least_open", "Member with the fewest open leads"
        FIXED_OWNER = "fixed_owner", "Always the territory owner"

    model = models.ForeignKey(TerritoryModel, on_delete=models.CASCADE, related_name="territories")
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.GEOGRAPHIC)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_territories"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # Geographic rules: empty lists are open. zip entries: exact, prefix "941*", range "94100-94199".
    countries = models.JSONField(default=list, blank=True)
    states = models.JSONField(default=list, blank=True)
    zip_codes = models.JSONField(default=list, blank=True)
    # Account rules: bounds inclusive; an empty bound is open.
    industry = models.CharField(max_length=100, blank=True, default="")
    min_employee_count = models.PositiveIntegerField(null=True, blank=True)
    max_employee_count = models.PositiveIntegerField(null=True, blank=True)
    min_annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    max_annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    priority = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    routing_policy = models.CharField(max_length=12, choices=RoutingPolicy.choices, default=RoutingPolicy.ROUND_ROBIN)

    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "territories"
        permissions = [("access_territory", "Holds the territory: sees its records")]
        indexes = [
            models.Index(fields=["model", "is_active"], name="territory_model_active_idx"),
            models.Index(fields=["parent"], name="territory_parent_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TerritoryMember(TimeStampedModel):
    """A user who works a territory and receives its routed leads."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="territory_memberships")
    daily_capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Leads per day; empty is unlimited")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["territory", "user"], name="territory_member_once")]

    def __str__(self) -> str:
        return f"{self.user} in {self.territory}"


class TerritoryUserGrant(UserObjectPermissionBase):
    """A user holding a territory (guardian object permission with a real foreign key)."""

    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "territory grant to a user"
        indexes = [models.Index(fields=["user", "permission"], name="territory_ugrant_user_idx")]


class TerritoryGroupGrant(GroupObjectPermissionBase):
    """A group whose users hold a territory (guardian object permission with a real foreign key)."""

    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="group_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "territory grant to a group"
        indexes = [models.Index(fields=["group", "permission"], name="territory_ggrant_group_idx")]


class RealignmentJob(JobLiveness, TimeStampedModel):
    """A planned re-assignment of records to territories: previewed first, then applied in batches."""

    class Kind(models.TextChoices):
        REALIGN = "realign", "Realign to the model's rules"
        ACTIVATE = "activate", "Activate a planning model"

    class Status(models.TextChoices):
        PREVIEWING = "previewing", "Computing preview"
        PREVIEWED = "previewed", "Preview ready"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Applying"
        FAILED = "failed", "Failed (can resume)"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    model = models.ForeignKey(TerritoryModel, on_delete=models.CASCADE, related_name="realignment_jobs")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REALIGN)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWING, db_index=True)
    # [{"territory_id": 3, "states": [...], ...}]: rule edits previewed, saved only when applied.
    rule_changes = models.JSONField(default=list, blank=True)
    rules_applied = models.BooleanField(default=False, help_text="Rule changes / activation are committed")
    auto_apply = models.BooleanField(default=False, help_text="Apply as soon as the preview is computed")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch_size = models.PositiveIntegerField(default=500)
    totals = models.JSONField(default=dict, blank=True, help_text="Per record type: candidates and moves")
    flows = models.JSONField(default=list, blank=True, help_text="Moves counted by from/to territory")
    total = models.PositiveIntegerField(default=0, help_text="Moves planned")
    processed = models.PositiveIntegerField(default=0, help_text="Moves applied")
    batches_done = models.PositiveIntegerField(default=0)
    checkpoint = models.BigIntegerField(default=0, help_text="Id of the last applied move")
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Realignment #{self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class RealignmentMove(models.Model):
    """One record a realignment moves from one territory to another (planned at preview, applied once)."""

    job = models.ForeignKey(RealignmentJob, on_delete=models.CASCADE, related_name="moves")
    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()
    label = models.CharField(max_length=200, blank=True, default="")
    from_territory_id = models.BigIntegerField(null=True, blank=True)
    to_territory_id = models.BigIntegerField(null=True, blank=True)
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "applied", "id"], name="realign_move_pending_idx")]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}: {self.from_territory_id} -> {self.to_territory_id}"
