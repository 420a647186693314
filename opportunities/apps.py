from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class OpportunitiesConfig(AppConfig):
    """Accounts, contacts, deals, pipeline and forecasts."""

    name = "opportunities"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from opportunities import documents, integrations, privacy, receivers
        from opportunities.models import (
            Account,
            Contact,
            ForecastAdjustment,
            ForecastSnapshot,
            ForecastSubmission,
            LossReason,
            Opportunity,
            Stage,
            StageHistory,
        )
        from opportunities.selectors import stages_changed
        from opportunities.services.archive import register_archive_jobs
        from salesapp.access import RecordRule, register_model, register_parent_access
        from salesapp.partitions import register_partitioned

        for signal in (post_save, post_delete):  # admins edit stages in the console as well as through stage_update
            signal.connect(stages_changed, sender=Stage, dispatch_uid=f"stages-{signal}")

        register_model(Account, RecordRule(owner_field="owner", territory_field="territory"))
        register_model(Opportunity, RecordRule(owner_field="owner", territory_field="territory"))
        register_model(Contact, RecordRule(owner_field=None, territory_field=None, via=(("account", Account),)))
        # Whoever sees a deal reads its account (and so the account's contacts); never the reverse.
        register_parent_access(Account, child=Opportunity, field="account")
        # A forecast figure is its person's: they, their managers and admins see it.
        for model in (ForecastSubmission, ForecastAdjustment, ForecastSnapshot):
            register_model(model, RecordRule(owner_field="user", territory_field=None))

        from salesapp import fields

        fields.register(Opportunity, margin="deal margin", cost="deal cost")

        auditlog.register(Account, exclude_fields=["normalized_name", "updated_at"])
        auditlog.register(Contact, exclude_fields=["email_blind_index", "phone_blind_index", "updated_at"],
                          mask_fields=["email", "phone"], mask_callable="salesapp.crypto.audit_mask")
        auditlog.register(Opportunity, exclude_fields=["updated_at", "stage_changed_at"], m2m_fields={"contacts"})
        auditlog.register(Stage)
        auditlog.register(LossReason)
        auditlog.register(ForecastAdjustment)
        auditlog.register(ForecastSubmission)

        integrations.register_all()
        register_archive_jobs()
        register_partitioned(StageHistory._meta.db_table, "changed_at")
        privacy.register()  # data subject requests
        documents.register()  # searchable; its consumers keep the index current
        post_migrate.connect(receivers.stages_ensure, sender=self)

