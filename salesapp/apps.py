from django.apps import AppConfig
from django.db.models import Field, ForeignObject
from django.db.models.signals import post_migrate, pre_migrate
from django.urls import register_converter


class SalesappConfig(AppConfig):
    """The shared kernel: users and roles, access rules, events, audit."""

    name = "salesapp"
    verbose_name = "Users, roles and events"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        import salesapp.api.schema  # noqa: F401  (registers OpenAPI extensions)
        from salesapp import collectors, fields, metrics
        from salesapp.access import AnyOf, RecordRule, connect_access_invalidation, register_model
        from salesapp.backends import connect_invalidation
        from salesapp.converters import IdConverter
        from salesapp.crypto import register_reencryption_jobs
        from salesapp.imports import register_import_jobs
        from salesapp.models import ImportJob, PrivacyRequest, User
        from salesapp.postgresql.base import migration_limits_off, migration_limits_on
        from salesapp.privacy import register_privacy_jobs
        from salesapp.retention import register_kernel_targets
        from salesapp.roles import roles_sync
        from salesapp.signin import connect as connect_signin

        register_converter(IdConverter, "id")  # record ids in every route's path (salesapp.converters)
        post_migrate.connect(roles_sync, sender=self)
        pre_migrate.connect(migration_limits_off, sender=self)
        post_migrate.connect(migration_limits_on, sender=self)
        post_migrate.connect(fields.field_permissions_sync, sender=self)  # after roles_sync: groups exist
        fields.register(User, on_target_earnings="compensation (on-target earnings)")
        # An import job is seen by who started it and their managers (admins: all).
        register_model(ImportJob, RecordRule(owner_field="created_by", territory_field=None))
        connect_invalidation(User)
        for kind in (Field, ForeignObject):  # `field__any=[ids]`: the access rule's id sets as one array
            kind.register_lookup(AnyOf)
        connect_access_invalidation()
        register_import_jobs()
        register_privacy_jobs()
        register_kernel_targets()
        register_reencryption_jobs()
        connect_signin()
        metrics.connect()
        collectors.register()
        auditlog.register(User, exclude_fields=["password", "last_login", "calendar_token", "token_epoch"], m2m_fields={"groups"})
        # A request is audited by what was asked and done, never by whom it is about (its email, note, archive, and
        # the receipt, whose checkpoint names the person while it runs).
        auditlog.register(PrivacyRequest, include_fields=["kind", "status", "subject_key", "record_kind", "record_id",
                                                          "requested_by", "finished_at", "message"])
