"""How opportunities plugs into the apps below it and into the kernel's registries.

Called once from `OpportunitiesConfig.ready()`; every app is always installed, so each
registration is made directly and a missing one fails at start-up.
"""

from celery.schedules import crontab

from activities import links, timeline
from opportunities import demo, tasks  # noqa: F401  (registers the demo loader and the tasks)
from opportunities.history import AccountRealignment, OpportunityRealignment, stage_history_provider
from opportunities.imports import register_import_kinds
from opportunities.models import Account, Contact, Opportunity
from opportunities.views import home_pipeline_panel
from salesapp.celery import app
from salesapp.home import register_panel
from territories import realignment


def register_all() -> None:
    links.register_link("opportunity", Opportunity, parents=("account",))
    links.register_link("account", Account)
    links.register_link("contact", Contact, parents=("account",))
    timeline.register_history_provider("opportunity", stage_history_provider(timeline.TimelineEntry))
    realignment.register_provider("accounts", AccountRealignment())
    realignment.register_provider("opportunities", OpportunityRealignment())
    register_import_kinds()
    register_panel(home_pipeline_panel)
    schedule = app.conf.beat_schedule or {}
    schedule.setdefault("forecast-weekly-snapshot", {
        "task": "opportunities.tasks.forecast_snapshot_task",
        "schedule": crontab(minute=0, hour=2, day_of_week="mon"),
    })
    schedule.setdefault("opportunity-archive-nightly", {
        "task": "opportunities.tasks.opportunity_archive_schedule_task",
        "schedule": crontab(minute=30, hour=3),
    })
    app.conf.beat_schedule = schedule
