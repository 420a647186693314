from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """Intelligence: scoring, next best action, analytics."""

    name = "intelligence"

    def ready(self):
        from auditlog.registry import auditlog
        from django.conf import settings

        from intelligence import receivers  # noqa: F401  (connects the event receivers)
        from intelligence.models import Recommendation, RecordScore, ScoringModel
        from salesapp.access import RecordRule, register_model
        from salesapp.demo import register_loader

        from . import demo, scoring_hooks

        register_model(Recommendation, RecordRule(owner_field=None, territory_field=None, via=self._via()))
        register_model(RecordScore, RecordRule(owner_field=None, territory_field=None, via=self._via()))
        auditlog.register(ScoringModel, exclude_fields=["blob"])
        auditlog.register(Recommendation)
        register_loader(60, "intelligence", demo.load)
        scoring_hooks.register()
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "intelligence-train-nightly",
            {"task": "intelligence.tasks.models_train_nightly_task", "schedule": _nightly()},
        )
        try:
            from salesapp.celery import app as celery_app

            celery_app.conf.beat_schedule = settings.CELERY_BEAT_SCHEDULE
        except Exception:  # noqa: BLE001  (the celery app is optional at import time)
            pass

    @staticmethod
    def _via():
        from leads.models import Lead
        from opportunities.models import Opportunity

        return (("opportunity", Opportunity), ("lead", Lead))


def _nightly():
    from celery.schedules import crontab

    return crontab(hour=2, minute=30)
