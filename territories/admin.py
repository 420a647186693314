"""Admin console for territory setup: models, hierarchy, rules, members, priority, grants, jobs.

Saves go through the services, so validation, events and guardian grants stay
the same as in the app and the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from guardian.admin import GuardedModelAdmin

from territories import realignment, services
from territories.engine import RULE_FIELDS, rules_in_words
from territories.forms import RuleForm
from territories.models import RealignmentJob, Territory, TerritoryMember, TerritoryModel


class TerritoryInline(admin.TabularInline):
    model = Territory
    fields = ["name", "parent", "type", "owner", "priority", "is_active"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(TerritoryModel)
class TerritoryModelAdmin(admin.ModelAdmin):
    list_display = ["name", "state", "activated_at", "created_at"]
    list_filter = ["state"]
    readonly_fields = ["state", "activated_at"]
    inlines = [TerritoryInline]
    actions = ["preview_activation", "clone_model"]

    @admin.action(description="Preview realignment / activation (changes nothing)")
    def preview_activation(self, request, queryset):
        for model in queryset:
            try:
                job = realignment.realignment_preview_start(actor=request.user, model=model)
                self.message_user(request, f"{model}: preview #{job.pk} — open it under Realignment jobs to apply.")
            except ValidationError as e:
                self.message_user(request, f"{model}: {e.messages[0]}", messages.ERROR)

    @admin.action(description="Copy into a new planning model")
    def clone_model(self, request, queryset):
        for model in queryset:
            copy = services.territory_model_clone(actor=request.user, source=model, name=f"{model.name} (copy)")
            self.message_user(request, f"Created planning model {copy}.")

    def delete_model(self, request, obj):
        services.territory_model_delete(actor=request.user, model=obj)


class MemberInline(admin.TabularInline):
    model = TerritoryMember
    fields = ["user", "daily_capacity"]
    autocomplete_fields = ["user"]
    extra = 1


class TerritoryAdminForm(forms.ModelForm, RuleForm):
    """The rules as fields (countries picked from the ISO list, industry from its list, states and postal
    codes typed as lists) with a live count of the records they match; the services' rule checks show
    as form errors instead of failing the save."""

    class Meta:
        model = Territory
        fields = ["model", *services.EDITABLE_FIELDS]

    def clean(self):
        data = super().clean()
        fields = {f: data[f] for f in data if f in services.EDITABLE_FIELDS or f == "model"}
        try:
            clean = services.territory_validate(fields, instance=self.instance if self.instance.pk else None)
        except ValidationError as e:
            for field, errors in e.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return data
        data.update({k: v for k, v in clean.items() if k in data})
        return data


@admin.register(Territory)
class TerritoryAdmin(GuardedModelAdmin):
    form = TerritoryAdminForm
    change_form_template = "admin/territories/territory/change_form.html"
    list_display = ["name", "model", "parent", "type", "owner", "priority", "is_active", "rules"]
    list_filter = ["model", "type", "is_active"]
    search_fields = ["name", "industry"]
    autocomplete_fields = ["owner", "parent"]
    list_select_related = ["model", "parent", "owner"]
    inlines = [MemberInline]
    fieldsets = (
        (None, {"fields": ("model", "name", "type", "parent", "owner", "priority", "is_active", "routing_policy")}),
        ("Geographic rules", {"fields": ("countries", "states", "zip_codes"),
                              "description": "Empty means any; a record must match every rule given."}),
        ("Account rules", {"fields": ("industry", "min_employee_count", "max_employee_count",
                                      "min_annual_revenue", "max_annual_revenue"),
                           "description": "Bounds are inclusive; an empty bound is open."}),
    )

    @admin.display(description="Rules")
    def rules(self, obj):
        return "; ".join(rules_in_words({f: getattr(obj, f) for f in RULE_FIELDS})) or "every record"

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in form.cleaned_data if f in services.EDITABLE_FIELDS}
        try:
            if change:
                services.territory_update(actor=request.user, territory=Territory.objects.get(pk=obj.pk), **fields)
            else:
                created = services.territory_create(actor=request.user, model=form.cleaned_data.get("model"),
                                                    **fields)
                obj.pk = created.pk
        except ValidationError as e:
            self.message_user(request, "; ".join(e.messages), messages.ERROR)
            raise
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not TerritoryMember:
            return super().save_formset(request, form, formset, change)
        territory = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                services.territory_member_remove(actor=request.user, member=deleted.instance)
                formset.deleted_objects.append(deleted.instance)
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            data = inline_form.cleaned_data
            if not data.get("user"):
                continue
            member = inline_form.instance
            if member.pk:
                services.territory_member_update(actor=request.user, member=member,
                                                 daily_capacity=data.get("daily_capacity"))
                formset.changed_objects.append((member, inline_form.changed_data))
            else:
                formset.new_objects.append(services.territory_member_add(
                    actor=request.user, territory=territory, user=data["user"],
                    daily_capacity=data.get("daily_capacity")))

    def delete_model(self, request, obj):
        services.territory_delete(actor=request.user, territory=obj)


@admin.register(RealignmentJob)
class RealignmentJobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "model", "kind", "status", "total", "processed", "created_by", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in RealignmentJob._meta.fields]
    actions = ["apply_jobs"]

    @admin.action(description="Apply (or resume) the selected previews")
    def apply_jobs(self, request, queryset):
        for job in queryset:
            try:
                realignment.realignment_apply(actor=request.user, job=job)
                self.message_user(request, f"{job} queued.")
            except ValidationError as e:
                self.message_user(request, f"{job}: {e.messages[0]}", messages.ERROR)

    def has_add_permission(self, request):
        return False
