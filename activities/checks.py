"""Start-up check: every record kind activities link to, and every history source of timelines, is registered.

The apps above register them in their `AppConfig.ready()`; one that forgot is
an error that `manage.py check`, runserver and migrate report (and a test asserts).
"""

from django.core import checks

from activities.links import missing_kinds
from activities.timeline import missing_history_kinds


def registrations_check(app_configs=None, **kwargs) -> list[checks.Error]:
    """Errors for link kinds and timeline history kinds no app registered."""
    errors = [
        checks.Error(f"No app registered activity links to {kind} records.",
                     hint="Call activities.links.register_link() in the owning app's AppConfig.ready().",
                     id="activities.E001")
        for kind in missing_kinds()
    ]
    errors += [
        checks.Error(f"No app registered the {kind} history of timelines.",
                     hint="Call activities.timeline.register_history_provider() in the owning app's AppConfig.ready().",
                     id="activities.E002")
        for kind in missing_history_kinds()
    ]
    return errors
