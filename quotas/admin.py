"""Admin console: quotas, bulk setup for many holders at once, and CSV import with row-level errors."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from quotas import attainment, services
from quotas.forms import BulkQuotaForm, QuotaImportForm
from quotas.models import Quota
from salesapp import imports
from salesapp.access import CHANGE, VIEW
from salesapp.guards import has_permission
from salesapp.periods import parse_period


def may_set(user) -> bool:
    return has_permission(user, services.SET_PERMISSION)


def _may_change(user, quota: Quota) -> bool:
    return Quota.objects.restrict(user, CHANGE).filter(pk=quota.pk).exists()


class QuotaAdminForm(forms.ModelForm):
    """Checks what the service will check, so errors show on the form instead of failing the save."""

    actor = None

    class Meta:
        model = Quota
        fields = ["user", "territory", "period", "quota_type", "quota_amount", "status", "parent"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            try:
                data["period"] = parse_period(data.get("period", "")).key
                services.check_new_quota(actor=self.actor, user=data.get("user"), territory=data.get("territory"),
                                         period=data["period"], quota_type=data.get("quota_type", ""))
            except ValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    self.add_error(field_name if field_name in self.fields else None, errors)
        return data


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    form = QuotaAdminForm

    list_display = ["holder_name", "period", "quota_type", "quota_amount", "attainment_amount",
                    "attainment_percentage", "status", "parent"]
    list_filter = ["period", "period_kind", "quota_type", "status"]
    search_fields = ["period", "user__email", "user__first_name", "user__last_name", "territory__name"]
    list_select_related = ["user", "territory", "parent__user", "parent__territory"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["territory", "parent"]
    fields = ["user", "territory", "period", "quota_type", "quota_amount", "status", "parent", "period_kind",
              "start_date", "end_date", "attainment_amount", "attainment_percentage", "attained_at", "created_by"]
    readonly_fields = ["period_kind", "start_date", "end_date", "attainment_amount", "attainment_percentage",
                       "attained_at", "created_by"]
    actions = ["publish", "recompute"]
    change_list_template = "admin/quotas/quota/change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the holder, period and type of a quota do not change; set a new one instead
            return [*self.readonly_fields, "user", "territory", "period", "quota_type"]
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, VIEW)

    def has_add_permission(self, request):
        return may_set(request.user)

    def has_change_permission(self, request, obj=None):
        return may_set(request.user) and (obj is None or _may_change(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return may_set(request.user) and (obj is None or _may_change(request.user, obj))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                saved = services.quota_update(actor=request.user, quota=Quota.objects.get(pk=obj.pk),
                                              quota_amount=data["quota_amount"], status=data["status"],
                                              parent=data.get("parent"))
            else:
                saved = services.quota_create(
                    actor=request.user, user=data.get("user"), territory=data.get("territory"),
                    period=data["period"], quota_type=data["quota_type"], quota_amount=data["quota_amount"],
                    status=data["status"], parent=data.get("parent"))
        except (ValidationError, PermissionDenied) as exc:  # raced with another change since the form was checked
            messages.error(request, "; ".join(exc.messages if isinstance(exc, ValidationError) else [str(exc)]))
            raise
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.quota_delete(actor=request.user, quota=obj)

    def delete_queryset(self, request, queryset):
        for quota in queryset:
            services.quota_delete(actor=request.user, quota=quota)

    @admin.action(description="Publish the selected quotas")
    def publish(self, request, queryset):
        count = services.quotas_publish(actor=request.user, quotas=list(queryset))
        self.message_user(request, f"{count} quotas published", messages.SUCCESS)

    @admin.action(description="Re-measure attainment of the selected quotas")
    def recompute(self, request, queryset):
        result = attainment.quotas_recompute(quota_ids=list(queryset.values_list("pk", flat=True)),
                                             actor=request.user)
        self.message_user(request, f"{result['quotas']} measured, {result['changed']} changed", messages.SUCCESS)

    def get_urls(self):
        extra = [
            path("bulk-setup/", self.admin_site.admin_view(self.bulk_setup_view), name="quotas_quota_bulk"),
            path("import/", self.admin_site.admin_view(self.import_view), name="quotas_quota_import"),
        ]
        return extra + super().get_urls()

    def _context(self, request, title):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}

    def bulk_setup_view(self, request):
        """The same quota for many people or territories in one go."""
        if not may_set(request.user):
            raise PermissionDenied
        form = BulkQuotaForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                result = services.quotas_bulk_set(
                    actor=request.user, period=data["period"], quota_type=data["quota_type"],
                    quota_amount=data["quota_amount"], users=data["users"], territories=data["territories"],
                    status=data["status"])
            except ValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    form.add_error(field_name if field_name in form.fields else None, errors)
            else:
                self.message_user(request, f"{result['created']} quotas created, {result['updated']} changed",
                                  messages.SUCCESS)
                return redirect(reverse("admin:quotas_quota_changelist") + f"?period={data['period']}")
        return TemplateResponse(request, "admin/quotas/quota/bulk_setup.html",
                                {**self._context(request, "Bulk quota setup"), "form": form})

    def import_view(self, request):
        """CSV import through the shared import runner: every bad row is reported, with its column."""
        if not may_set(request.user):
            raise PermissionDenied
        form = QuotaImportForm(request.POST or None, request.FILES or None)
        job = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_create(
                    actor=request.user, kind="quotas", content=upload.read(), filename=upload.name,
                    dry_run=form.cleaned_data["dry_run"],
                    on_error="skip" if form.cleaned_data["skip_bad_rows"] else "abort")
            except imports.ImportSetupError as exc:
                form.add_error("file" if exc.field in ("file", "mapping") else None, exc.message)
            else:
                job = imports.import_job_run(job.pk)
        return TemplateResponse(request, "admin/quotas/quota/import.html", {
            **self._context(request, "Import quotas from CSV"), "form": form, "job": job,
            "columns": imports.import_kind("quotas").columns,
        })
