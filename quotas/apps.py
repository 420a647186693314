from django.apps import AppConfig


class QuotasConfig(AppConfig):
    """Quotas: planning, allocation, attainment."""

    name = "quotas"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.conf import settings

        import quotas.receivers  # noqa: F401  (connects the event receivers and consumers)
        from quotas import demo, imports, panels
        from quotas.access import published_unless_setter
        from quotas.models import Quota
        from quotas.tasks import RECOMPUTE_SCHEDULE
        from salesapp.access import RecordRule, register_model
        from salesapp.home import register_panel

        register_model(Quota, RecordRule(owner_field="user", territory_field="territory", narrow=published_unless_setter))
        auditlog.register(Quota, exclude_fields=["attainment_amount", "attainment_percentage", "attained_at",
                                                 "updated_at"])
        # The beat schedule is read when beat starts, after every app is ready.
        for name, entry in RECOMPUTE_SCHEDULE.items():
            settings.CELERY_BEAT_SCHEDULE.setdefault(name, entry)
        # "status" names several choice sets across the API; give ours a stable schema name
        overrides = settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})
        overrides.setdefault("QuotaStatusEnum", "quotas.models.Quota.Status")
        demo.register()
        imports.register()
        register_panel(panels.my_attainment_panel)
