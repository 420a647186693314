from django.apps import AppConfig
from django.core import checks


class ActivitiesConfig(AppConfig):
    """Activities: emails, calls, meetings, demos, tasks; timelines."""

    name = "activities"

    def ready(self) -> None:
        # Imported here, not at the top: app modules need the app registry, which is ready only now.
        from activities import demo, imports, privacy, receivers  # noqa: F401  (demo loader, import kind, event receivers)
        from activities.checks import registrations_check
        from activities.links import access_q
        from activities.models import Activity
        from activities.views import home_panel
        from salesapp.access import RecordRule, register_model
        from salesapp.home import register_panel

        # The activity rule is links.access_cond; restrict() runs its Q, the MongoDB store the condition itself.
        # Activities are audited by the services on both stores (salesapp.audit), not by auditlog's signals.
        register_model(Activity, RecordRule(owner_field=None, territory_field=None, q=access_q))
        register_panel(home_panel)
        privacy.register()  # data subject requests and retention
        checks.register(registrations_check)
