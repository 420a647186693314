"""Admin console: stages and their default probabilities, loss reasons, and the records themselves."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from opportunities import services
from opportunities.models import (
    Account,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
    StageHistory,
)


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Admins change default probabilities here; open deals that follow the stage follow the change."""

    list_display = ["key", "label", "order", "default_probability", "is_closed", "is_won"]
    list_editable = ["default_probability"]
    readonly_fields = ["key", "is_closed", "is_won"]
    ordering = ["order"]

    def has_add_permission(self, request):
        return False  # the six stages are the pipeline; their keys are referenced by the rules

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.stage_update(actor=request.user, stage=obj, default_probability=obj.default_probability,
                                  label=obj.label)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))


@admin.register(LossReason)
class LossReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["name"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["first_name", "last_name", "email", "phone", "title", "buying_role"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "website_domain", "industry", "billing_country", "owner", "territory"]
    list_filter = ["industry", "billing_country"]
    search_fields = ["name", "website_domain", "normalized_name"]
    autocomplete_fields = ["owner", "parent"]
    list_select_related = ["owner", "territory"]
    readonly_fields = ["territory", "last_activity_at", "created_at", "updated_at"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "account", "email", "phone", "buying_role"]
    list_filter = ["buying_role"]
    search_fields = ["first_name", "last_name", "email", "account__name"]
    autocomplete_fields = ["account", "owner"]
    list_select_related = ["account"]


class StageHistoryInline(admin.TabularInline):
    model = StageHistory
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "days_in_previous_stage", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    """Stage, probability and closing go through the services (history and events), so they are read-only here."""

    list_display = ["name", "account", "stage", "amount", "probability", "forecast_category", "expected_close_date",
                    "actual_close_date", "owner"]
    list_filter = ["stage", "forecast_category"]
    search_fields = ["name", "account__name"]
    autocomplete_fields = ["account", "owner", "contacts"]
    list_select_related = ["account", "owner", "stage"]
    date_hierarchy = "expected_close_date"
    readonly_fields = ["stage", "probability", "probability_is_manual", "actual_close_date", "loss_reason",
                       "forecast_category_is_manual", "stage_changed_at", "last_activity_at", "territory",
                       "created_at", "updated_at"]
    inlines = [StageHistoryInline]

    def has_add_permission(self, request):
        return False  # new deals start through the UI or API so they get history and events


@admin.register(ForecastAdjustment)
class ForecastAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["user", "period", "category", "amount", "adjusted_by", "created_at"]
    list_filter = ["period", "category"]
    readonly_fields = [f.name for f in ForecastAdjustment._meta.fields]


@admin.register(ForecastSubmission)
class ForecastSubmissionAdmin(admin.ModelAdmin):
    list_display = ["user", "period", "commit", "best_case", "submitted_at"]
    list_filter = ["period"]
    readonly_fields = [f.name for f in ForecastSubmission._meta.fields]


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(admin.ModelAdmin):
    list_display = ["user", "scope", "period", "week_start", "closed_won", "commit", "best_case", "weighted"]
    list_filter = ["period", "scope"]
