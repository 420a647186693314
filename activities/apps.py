from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Activities: emails, calls, meetings, demos, tasks; timelines."""

    name = "activities"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from activities import demo  # noqa: F401  (registers the demo loader)
        from activities.models import Activity
        from salesapp.access import RecordRule, register_model

        # Selectors apply activities.links (visible when the linked record is);
        # this rule serves generic restrict() callers: the owner and their managers.
        register_model(Activity, RecordRule(owner_field="user", territory_field=None))
        auditlog.register(Activity)
