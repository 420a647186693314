from django.contrib import admin

from leads import services
from leads.models import Lead, LeadHistory, LeadRoutingConfig, WebToLeadForm
from salesapp.admin import ServiceAdmin


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
class LeadAdmin(ServiceAdmin):
    list_display = ["email", "first_name", "last_name", "company", "status", "score", "assigned_to", "territory",
                    "source", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["first_name", "last_name", "company"]
    blind_search_fields = {"email": "email_blind_index", "phone": "phone_blind_index"}
    list_select_related = ["assigned_to", "territory"]
    raw_id_fields = ["assigned_to", "territory"]
    # Status moves through the lead's actions (qualify, convert, ...) and conversion fills the converted_*
    # links: the console changes details, owner and territory, through lead_update like the UI.
    readonly_fields = ["status", "score", "score_model", "assigned_at", "assignment_reason", "queue", "merged_into",
                       "converted_opportunity", "converted_account", "converted_contact", "converted_at",
                       "last_activity_at", "activity_count", "created_at", "updated_at"]
    inlines = [LeadHistoryInline]
    show_full_result_count = False

    def update(self, *, actor, instance, **fields):
        services.lead_update(actor=actor, lead=instance, **fields)

    def delete(self, *, actor, instance):
        services.lead_delete(actor=actor, lead=instance)
