from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Q

from salesapp import events
from salesapp.crypto import blind_index
from salesapp.forms import AdminSetPasswordForm
from salesapp.models import AppliedEvent, ConsumerFailure, DataAccess, ImportJob, OutboxEvent, RecordShare, User
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
        return False  # entries go only by the retention purge
