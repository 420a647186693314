"""How opportunities plugs into the apps below it and into the kernel's registries.

Called from `OpportunitiesConfig.ready()`. Each registry belongs to another app that may
not be built yet; a missing module is skipped (logged), anything else fails loudly.
"""

import importlib
import logging

log = logging.getLogger(__name__)


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            log.info("%s is not there yet; opportunities skips registering with it", name)
            return None
        raise


def register_all() -> None:
    from opportunities import demo, tasks  # noqa: F401  (registers the demo loader and the tasks)

    _register_activity_links()
    _register_timeline()
    _register_realignment()
    _register_imports()
    _register_beat()
    _register_home_panel()


def _register_activity_links() -> None:
    links = _module("activities.links")
    if links is None:
        return
    from opportunities.models import Account, Contact, Opportunity

    links.register_link("opportunity", Opportunity, parents=lambda o: {"account_id": o.account_id})
    links.register_link("account", Account, parents=lambda a: {})
    links.register_link("contact", Contact, parents=lambda c: {"account_id": c.account_id})


def _register_timeline() -> None:
    timeline = _module("activities.timeline")
    if timeline is None:
        return
    from opportunities.history import stage_history_provider

    timeline.register_history_provider("opportunity", stage_history_provider(timeline.TimelineEntry))


def _register_realignment() -> None:
    realignment = _module("territories.realignment")
    if realignment is None:
        return
    from opportunities.history import AccountRealignment, OpportunityRealignment

    realignment.register_provider("accounts", AccountRealignment())
    realignment.register_provider("opportunities", OpportunityRealignment())


def _register_imports() -> None:
    imports = _module("salesapp.imports")
    if imports is None:
        return
    from opportunities.imports import register_import_kinds

    register_import_kinds(imports)


def _register_beat() -> None:
    from celery.schedules import crontab

    from salesapp.celery import app

    schedule = app.conf.beat_schedule or {}
    schedule.setdefault("forecast-weekly-snapshot", {
        "task": "opportunities.tasks.forecast_snapshot_task",
        "schedule": crontab(minute=0, hour=2, day_of_week="mon"),
    })
    app.conf.beat_schedule = schedule


def _register_home_panel() -> None:
    from opportunities.views import home_pipeline_panel
    from salesapp.home import register_panel

    register_panel(home_pipeline_panel)
