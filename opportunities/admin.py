"""Admin console: stages and their default probabilities, loss reasons, and the records themselves."""

from django.contrib import admin

from opportunities.models import (
    Account,
    ArchivedOpportunity,
    ArchiveJob,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
    StageHistory,
)
from opportunities.services import accounts, archive, contacts, deals
from salesapp.admin import ServiceAdmin


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    """Admins change default probabilities here; open deals that follow the stage follow the change."""

    list_display = ["key", "label", "order", "default_probability", "is_closed", "is_won"]
    list_editable = ["default_probability"]
    readonly_fields = ["key", "is_closed", "is_won"]
    ordering = ["order"]

    def has_add_permission(self, request):
        return False  # the pipeline's stages are seeded; which are open, won and lost is fixed per stage

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Save through `stage_update`, so open deals that follow the stage's default follow the change
        (with audit entries and events); the form's values are handed over, never saved directly.
        """
        data = form.cleaned_data
        deals.stage_update(actor=request.user, stage=obj, label=data.get("label"), order=data.get("order"),
                           default_probability=data.get("default_probability"))


@admin.register(LossReason)
class LossReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["name"]


class ContactInline(admin.TabularInline):
    """The account's contacts, read here; each is changed on its own page (through the contact services)."""

    model = Contact
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["first_name", "last_name", "email", "phone", "title", "buying_role"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ServiceAdmin):
    list_display = ["name", "website_domain", "industry", "billing_country", "owner", "territory"]
    list_filter = ["industry", "billing_country"]
    search_fields = ["name", "website_domain", "normalized_name"]
    autocomplete_fields = ["owner", "parent"]
    list_select_related = ["owner", "territory"]
    readonly_fields = ["territory", "last_activity_at", "created_at", "updated_at"]
    inlines = [ContactInline]

    def update(self, *, actor, instance, **fields):
        accounts.account_update(actor=actor, account=instance, **fields)

    def delete(self, *, actor, instance):
        accounts.account_delete(actor=actor, account=instance)


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    list_display = ["__str__", "account", "email", "phone", "buying_role"]
    list_filter = ["buying_role"]
    search_fields = ["first_name", "last_name", "account__name"]
    blind_search_fields = {"email": "email_blind_index", "phone": "phone_blind_index"}
    autocomplete_fields = ["account", "owner"]
    list_select_related = ["account"]

    def update(self, *, actor, instance, **fields):
        contacts.contact_update(actor=actor, contact=instance, **fields)

    def delete(self, *, actor, instance):
        contacts.contact_delete(actor=actor, contact=instance)


class StageHistoryInline(admin.TabularInline):
    model = StageHistory
    extra = 0
    can_delete = False
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "days_in_previous_stage", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ServiceAdmin):
    """Stage, probability and closing go through the services (history and events), so they are read-only here."""

    list_display = ["name", "account", "stage", "amount", "probability", "forecast_category", "expected_close_date",
                    "actual_close_date", "owner"]
    list_filter = ["stage", "forecast_category"]
    search_fields = ["name", "account__name"]
    autocomplete_fields = ["account", "owner", "contacts"]
    list_select_related = ["account", "owner", "stage"]
    date_hierarchy = "expected_close_date"
    readonly_fields = ["lead_id", "stage", "probability", "probability_is_manual", "actual_close_date", "loss_reason",
                       "forecast_category_is_manual", "stage_changed_at", "last_activity_at", "territory",
                       "deal_score", "created_at", "updated_at"]
    inlines = [StageHistoryInline]

    def update(self, *, actor, instance, **fields):
        deals.opportunity_update(actor=actor, opportunity=instance, **fields)

    def delete(self, *, actor, instance):
        deals.opportunity_delete(actor=actor, opportunity=instance)


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


@admin.register(ArchivedOpportunity)
class ArchivedOpportunityAdmin(admin.ModelAdmin):
    """Archived deals: opened read-only with their stage history; the action restores them."""

    list_display = ["name", "account", "stage", "amount", "actual_close_date", "owner", "archived_at"]
    list_filter = ["stage"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account", "owner", "stage"]
    inlines = [StageHistoryInline]
    actions = ["restore"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Restore the selected deals (back into lists and search, with their history)",
                  permissions=["view"])
    def restore(self, request, queryset):
        for deal in queryset:
            archive.opportunity_restore(actor=request.user, opportunity=deal)
        self.message_user(request, f"{len(queryset)} deals restored.")


@admin.register(ArchiveJob)
class ArchiveJobAdmin(admin.ModelAdmin):
    """Archival runs: adding one starts it (closed deals closed before the date go to the archive)."""

    list_display = ["closed_before", "status", "processed", "total", "created_by", "created_at", "finished_at"]
    fields = ["closed_before", "status", "processed", "total", "created_by", "created_at", "finished_at", "error"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else [f for f in self.fields if f != "closed_before"]

    def get_changeform_initial_data(self, request):
        return {"closed_before": archive.archive_cutoff()}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        job = archive.archive_job_start(actor=request.user, closed_before=form.cleaned_data["closed_before"])
        obj.pk = job.pk
