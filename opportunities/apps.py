import importlib
import logging

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate

log = logging.getLogger(__name__)


class OpportunitiesConfig(AppConfig):
    """Accounts, contacts, deals, pipeline and forecasts."""

    name = "opportunities"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        import opportunities.receivers  # noqa: F401  (connects the event receivers)
        from opportunities import integrations
        from opportunities.models import (
            Account,
            Contact,
            ForecastAdjustment,
            ForecastSubmission,
            LossReason,
            Opportunity,
            Stage,
        )
        from salesapp.access import RecordRule, register_model

        register_model(Account, RecordRule(owner_field="owner", territory_field="territory"))
        register_model(Opportunity, RecordRule(owner_field="owner", territory_field="territory"))
        register_model(Contact, RecordRule(owner_field=None, territory_field=None, via=(("account", Account),)))

        auditlog.register(Account, exclude_fields=["normalized_name", "updated_at"])
        auditlog.register(Contact, exclude_fields=["normalized_phone", "updated_at"])
        auditlog.register(Opportunity, exclude_fields=["updated_at", "stage_changed_at"], m2m_fields={"contacts"})
        auditlog.register(Stage)
        auditlog.register(LossReason)
        auditlog.register(ForecastAdjustment)
        auditlog.register(ForecastSubmission)

        integrations.register_all()
        post_migrate.connect(stages_ensure, sender=self)


def stages_ensure(**kwargs) -> None:
    """Seed the default stages and loss reasons when there are no stages at all.

    The data migration seeds them once; this also brings them back after a
    database flush (as transactional tests do), which keeps migrations' data out.
    """
    if not apps.get_model("opportunities", "Stage").objects.exists():
        importlib.import_module("opportunities.migrations.0003_seed_stages").seed(apps, None)
