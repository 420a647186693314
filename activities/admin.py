"""Admin console for activities stored in SQL, read only (with MongoDB configured, use the API)."""

from django.contrib import admin

from activities.models import Activity


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "subject", "user", "occurred_at", "completed_at", "lead_id", "opportunity_id", "account_id")
    list_filter = ("type", ("completed_at", admin.EmptyFieldListFilter), "occurred_at")
    search_fields = ("subject", "description", "user__email")
    raw_id_fields = ("user", "created_by")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    list_select_related = ("user",)
    readonly_fields = ("created_at", "updated_at", "occurred_at")
    fieldsets = (
        (None, {"fields": ("type", "subject", "description", "outcome", "user", "created_by")}),
        ("Linked to", {"fields": ("lead_id", "opportunity_id", "account_id", "contact_id")}),
        ("When", {"fields": ("scheduled_at", "due_at", "completed_at", "duration_minutes", "occurred_at", "created_at", "updated_at")}),
        ("More", {"fields": ("participants", "metadata")}),
    )

    # Read only: activities are written through the services (validation, events, audit), the API and the pages.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
