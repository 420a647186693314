import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from salesapp import events, privacy, retention
from salesapp.crypto import blind_index
from salesapp.forms import AdminSetPasswordForm
from salesapp.models import (
    AppliedEvent,
    ConsumerFailure,
    DataAccess,
    ErasureTombstone,
    ImportJob,
    OutboxEvent,
    PicklistValue,
    PrivacyRequest,
    RecordShare,
    RetentionPolicy,
    RetentionRun,
    User,
)
from salesapp.roles import Role
from salesapp.services import (
    user_credentials_revoke,
    user_sync_role_group,
    user_validate_change,
    user_validate_manager,
)
from salesapp.signin import signin_unlock


class EncryptedSearchAdmin(admin.ModelAdmin):
    """The console's search box also finds a record by its exact email or phone: those are encrypted, so the
    typed text is compared through the blind index (`blind_search_fields`: kind -> blind index field)."""

    blind_search_fields: dict[str, str] = {}

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        exact = Q()
        for kind, field in self.blind_search_fields.items():
            key = blind_index(kind, search_term)
            if key:
                exact |= Q(**{field: key})
        if exact:
            found = found | queryset.filter(exact)
        return found, may_have_duplicates


class ServiceAdmin(EncryptedSearchAdmin):
    """Changes and deletes go through the app's services, so the admin console's writes get the same
    rules, audit entries and events as the UI's and the API's. Records start in the UI or the API.
    """

    def update(self, *, actor, instance, **fields):
        raise NotImplementedError

    def delete(self, *, actor, instance):
        raise NotImplementedError

    def has_add_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form has already set its values on `obj`: hand the service the stored record and the changes.
        stored = type(obj).objects.get(pk=obj.pk)
        self.update(actor=request.user, instance=stored, **{f: form.cleaned_data[f] for f in form.changed_data})

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # many-to-many fields were handed to the service by save_model
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        self.delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete(actor=request.user, instance=obj)


class _ManagerChainMixin:
    """Refuse a manager that would close a loop, as a field error on the form."""

    def clean(self):
        cleaned = super().clean()
        try:
            user_validate_manager(self.instance, cleaned.get("manager"))
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class UserAdminChangeForm(_ManagerChainMixin, UserChangeForm):
    actor = None  # the admin at work, set per request by UserAdmin.get_form

    def clean(self):
        """Nobody changes their own role or deactivates themselves; the last active admin stays one."""
        cleaned = super().clean()
        try:
            user_validate_change(actor=self.actor, user=self.instance, role=cleaned.get("role", self.instance.role),
                                 is_active=cleaned.get("is_active", self.instance.is_active))
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class UserAdminCreationForm(_ManagerChainMixin, AdminUserCreationForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    change_password_form = AdminSetPasswordForm
    actions = ["unlock_sign_in"]
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "manager", "is_active"]
    list_filter = ["role", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    autocomplete_fields = ["manager"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name")}),
        ("Role and hierarchy", {"fields": ("role", "manager", "groups")}),
        ("Compensation", {"fields": ("on_target_earnings",),
                          "description": "A restricted field: the API and pages show it only to the roles "
                                         "holding its read permission (Groups)."}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )
    # The role opens the console (admin) or not: staff and superuser follow it, never set by hand.
    readonly_fields = ["is_staff", "is_superuser"]
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "manager", "password1", "password2")}),)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # a class made for this request
        return form

    def save_model(self, request, obj, form, change):
        user_validate_manager(obj, obj.manager)
        if not change or "role" in form.changed_data:
            # As in services.user_update: the admin role is what opens the console.
            obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)
        if change and {"role", "is_active"} & set(form.changed_data):
            # As in services.user_update and user_deactivate: a new role or deactivation ends sessions and tokens.
            user_credentials_revoke(user=obj)

    @admin.action(description="Unlock sign-in (after too many failed sign-ins)")
    def unlock_sign_in(self, request, queryset):
        for user in queryset:
            signin_unlock(actor=request.user, user=user)
        self.message_user(request, f"{len(queryset)} users may sign in again", messages.SUCCESS)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_sync_role_group(form.instance)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "attempts", "created_at", "sent_at", "applied_at"]
    list_filter = ["status", "name"]
    search_fields = ["id", "name"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["requeue_dead"]

    @admin.action(description="Requeue dead-lettered events")
    def requeue_dead(self, request, queryset):
        count = events.outbox_requeue_dead()
        self.message_user(request, f"{count} events requeued", messages.SUCCESS)


@admin.register(ConsumerFailure)
class ConsumerFailureAdmin(admin.ModelAdmin):
    """Failed (event, consumer) pairs: retrying ones and dead-lettered ones with their error, requeueable."""

    list_display = ["consumer", "event_name", "status", "attempts", "last_failed_at", "next_attempt_at", "short_error"]
    list_filter = ["status", "consumer"]
    search_fields = ["consumer", "event__id", "event__name", "last_error"]
    list_select_related = ["event"]
    readonly_fields = [f.name for f in ConsumerFailure._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="event")
    def event_name(self, obj):
        return f"{obj.event.name} {obj.event_id}"

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description="Requeue: retry these consumers now, with a fresh set of attempts")
    def requeue(self, request, queryset):
        count = events.consumer_failures_requeue(queryset)
        self.message_user(request, f"{count} consumer deliveries requeued", messages.SUCCESS)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "filename", "total", "created", "updated", "created_by", "created_at"]
    list_filter = ["kind", "status", "dry_run", "on_error"]
    search_fields = ["filename", "created_by__email"]
    exclude = ["content"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]

    def has_add_permission(self, request):
        return False  # imports start from the import page or the API


admin.site.register(AppliedEvent, list_display=["consumer", "event_id", "applied_at"])
admin.site.register(RecordShare, list_display=["content_type", "object_id", "user", "created_at"])
admin.site.site_header = "Sales System admin"


@admin.register(DataAccess)
class DataAccessAdmin(admin.ModelAdmin):
    """The data-access audit: read-only, filterable by user, kind of record and kind of read."""

    list_display = ["at", "user", "kind", "model", "count", "address", "path"]
    list_filter = ["kind", "model", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__email", "model", "path"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = [f.name for f in DataAccess._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # entries go only by their retention policy (salesapp.retention)

@admin.register(PicklistValue)
class PicklistValueAdmin(admin.ModelAdmin):
    """The lists forms offer (industries, lead sources): reorder, rename or retire entries here."""

    list_display = ["label", "value", "kind", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["label", "value"]


class PrivacyRequestForm(forms.ModelForm):
    """A new request: the kind, and the person by email or by one of their records."""

    class Meta:
        model = PrivacyRequest
        fields = ["kind", "email", "record_kind", "record_id", "note"]

    def clean(self):
        cleaned = super().clean()
        try:
            self.filed = privacy.privacy_request_create(actor=self.actor, **{f: cleaned.get(f) or v for f, v in (
                ("kind", ""), ("email", ""), ("record_kind", ""), ("record_id", None), ("note", ""))})
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return cleaned


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    """Data subject requests: filed here or through the API, run as jobs; each keeps its receipt."""

    form = PrivacyRequestForm
    list_display = ["id", "kind", "status", "email", "subject_key_short", "requested_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["email", "subject_key"]
    list_select_related = ["requested_by"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # a class made for this request
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["receipt_shown"]
        return ["kind", "status", "email", "subject_key", "record_kind", "record_id", "note", "receipt_shown",
                "archive_link", "message", "requested_by", "created_at", "started_at", "finished_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "email", "record_kind", "record_id", "note"]
        return self.get_readonly_fields(request, obj)

    @admin.display(description="subject key")
    def subject_key_short(self, obj):
        return obj.subject_key[:12]

    @admin.display(description="receipt")
    def receipt_shown(self, obj):
        receipt = {k: v for k, v in (obj.receipt if obj else {}).items() if k != "subject"}
        return format_html("<pre>{}</pre>", json.dumps(receipt, indent=2, default=str)) if receipt else "—"

    @admin.display(description="archive")
    def archive_link(self, obj):
        if not PrivacyRequest.objects.filter(pk=obj.pk, archive__isnull=False).exists():
            return "—"
        url = reverse("privacy-request-archive", args=[obj.pk])
        return format_html('<a href="{}">Download the archive (zip of JSON)</a>', url)

    def save_model(self, request, obj, form, change):
        if change:
            return  # a request is not edited: file a new one
        privacy.privacy_request_start(form.filed)
        obj.pk = form.filed.pk

    def has_change_permission(self, request, obj=None):
        return obj is None or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # the request is its own receipt


@admin.register(ErasureTombstone)
class ErasureTombstoneAdmin(admin.ModelAdmin):
    """People erased at their request, by the keyed hash of their email: capture refuses those emails."""

    list_display = ["email_key", "request", "created_at"]
    readonly_fields = ["email_key", "request", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RetentionPolicyForm(forms.ModelForm):
    data_type = forms.ChoiceField(choices=())

    class Meta:
        model = RetentionPolicy
        fields = ["data_type", "keep_days", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_type"].choices = [
            (key, f"{t.label} ({t.action})") for key, t in sorted(retention.retention_targets().items())]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """How long each kind of data is kept; run the selected policies dry (counts) or for real."""

    form = RetentionPolicyForm
    list_display = ["data_type", "keep_days", "enabled", "updated_at"]
    actions = ["dry_run", "run_now"]

    @admin.action(description="Dry run: count what the selected policies would change")
    def dry_run(self, request, queryset):
        self._run(request, queryset, dry_run=True)

    @admin.action(description="Run the selected policies now (anonymise or delete)")
    def run_now(self, request, queryset):
        self._run(request, queryset, dry_run=False)

    def _run(self, request, queryset, *, dry_run: bool):
        run = retention.retention_run(dry_run=dry_run, actor=request.user,
                                      data_types=list(queryset.filter(enabled=True).values_list("data_type", flat=True)))
        verb = "would change" if dry_run else "changed"
        parts = [f"{v['label']}: {v['due'] if dry_run else v['changed']} {v['action']}" for v in run.report.values()]
        self.message_user(request, f"{'Dry run' if dry_run else 'Run'} {verb}: " + ("; ".join(parts) or
                          "no enabled policy selected"), messages.SUCCESS)


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Every retention pass, dry or real, with its counts per policy."""

    list_display = ["at", "dry_run", "report", "started_by"]
    list_filter = ["dry_run"]
    readonly_fields = ["at", "dry_run", "report", "started_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
