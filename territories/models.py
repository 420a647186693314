"""Territories: versions (territory models), the hierarchy, rules and members."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from salesapp.models import TimeStampedModel


class TerritoryModel(TimeStampedModel):
    """A version of the territory plan: one is active, others are being planned or archived."""

    class State(models.TextChoices):
        PLANNING = "planning", "Planning"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNING, db_index=True)
    activated_at = models.DateTimeField(null=True, blank=True)

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
