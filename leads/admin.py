from django.contrib import admin

from leads.models import Lead, LeadHistory, LeadRoutingConfig, WebToLeadForm
from leads.services import _normalise


@admin.register(WebToLeadForm)
class WebToLeadFormAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "source", "is_active", "rate_limit_per_hour", "endpoint"]
    list_filter = ["is_active"]
    search_fields = ["name", "key", "source"]
    prepopulated_fields = {"key": ["name"]}
    fieldsets = (
        (None, {"fields": ("name", "key", "source", "is_active")}),
        ("Protection", {"fields": ("allowed_origins", "honeypot_field", "rate_limit_per_hour")}),
    )

    @admin.display(description="Endpoint")
    def endpoint(self, obj):
        return f"/api/v1/web-to-lead/{obj.key}/"


@admin.register(LeadRoutingConfig)
class LeadRoutingConfigAdmin(admin.ModelAdmin):
    list_display = ["queue_name", "default_owner"]
    autocomplete_fields = ["default_owner"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not LeadRoutingConfig.objects.exists()


class LeadHistoryInline(admin.TabularInline):
    model = LeadHistory
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "from_value", "to_value", "detail", "actor"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "company", "status", "score", "assigned_to", "territory",
                    "source", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["email", "first_name", "last_name", "company"]
    list_select_related = ["assigned_to", "territory"]
    raw_id_fields = ["assigned_to", "territory", "converted_opportunity", "converted_account", "converted_contact"]
    readonly_fields = ["score", "score_model", "assignment_reason", "queue", "merged_into", "converted_at",
                       "last_activity_at", "activity_count", "created_at", "updated_at"]
    inlines = [LeadHistoryInline]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        _normalise(obj)  # keep the dedup keys in step with admin edits
        super().save_model(request, obj, form, change)
