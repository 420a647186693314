from celery.schedules import crontab
from django.apps import AppConfig
from django.conf import settings


class IntelligenceConfig(AppConfig):
    """Intelligence: scoring, next best action, analytics."""

    name = "intelligence"

    def ready(self):
        from auditlog.registry import auditlog

        from intelligence import demo, receivers, scoring_hooks  # noqa: F401  (receivers connect on import)
        from intelligence.metrics import ScoringModelCollector
        from intelligence.models import Recommendation, ScoringModel
        from leads.models import Lead
        from opportunities.models import Opportunity
        from salesapp.access import RecordRule, register_model
        from salesapp.demo import register_loader
        from salesapp.metrics import register_collector

        # Advice is seen by whoever may see the deal or lead it is about.
        register_model(Recommendation, RecordRule(owner_field=None, territory_field=None,
                                                  via=(("opportunity", Opportunity), ("lead", Lead))))
        auditlog.register(ScoringModel, exclude_fields=["blob"])
        auditlog.register(Recommendation)
        register_loader(60, "intelligence", demo.load)
        scoring_hooks.register()
        register_collector(ScoringModelCollector())
        # The beat schedule is read when beat starts, after every app is ready.
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "intelligence-rescore-flush",
            {"task": "intelligence.tasks.rescore_flush_task", "schedule": settings.RESCORE_WINDOW_SECONDS},
        )
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "intelligence-train-nightly",
            {"task": "intelligence.tasks.models_train_nightly_task", "schedule": crontab(hour=2, minute=30)},
        )
