from django.contrib import admin

from intelligence.models import Recommendation, ScoringModel


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "algorithm", "auc", "brier", "is_active", "trained_at", "promoted_at")
    list_filter = ("kind", "algorithm", "is_active")
    readonly_fields = ("kind", "version", "algorithm", "metrics", "params", "trained_at", "trained_by",
                       "promoted_at", "is_active")
    exclude = ("blob",)

    @admin.display(description="AUC")
    def auc(self, obj):
        return (obj.metrics or {}).get("auc")

    @admin.display(description="Brier")
    def brier(self, obj):
        return (obj.metrics or {}).get("brier")

    def has_add_permission(self, request):
        return False


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ("code", "action", "opportunity", "lead", "status", "priority", "created_at", "decided_by")
    list_filter = ("code", "status")
    raw_id_fields = ("opportunity", "lead", "decided_by")
    search_fields = ("reason", "action")
