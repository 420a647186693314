from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Activities: emails, calls, meetings, demos, tasks; timelines."""

    name = "activities"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from activities import demo, imports, receivers  # noqa: F401  (demo loader, import kind, event receivers)
        from activities.models import Activity
        from activities.views import home_panel
        from salesapp.access import RecordRule, register_model
        from salesapp.home import register_panel

        # Selectors apply activities.links (visible when the linked record is);
        # this rule serves generic restrict() callers: the owner and their managers.
        register_model(Activity, RecordRule(owner_field="user", territory_field=None))
        auditlog.register(Activity)
        register_panel(home_panel)
