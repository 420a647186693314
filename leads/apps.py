
from django.apps import AppConfig


class LeadsConfig(AppConfig):
    """Leads: capture, dedup, qualification, routing, conversion."""

    name = "leads"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        import leads.receivers  # noqa: F401  (connects the event receivers)
        from leads import demo, documents, imports, privacy
        from leads.home import my_leads_panel
        from leads.models import Lead, LeadRoutingConfig, WebToLeadForm
        from opportunities.models import Account
        from salesapp.access import RecordRule, register_model, register_parent_access
        from salesapp.home import register_panel

        register_model(Lead, RecordRule(owner_field="assigned_to", territory_field="territory"))
        # Whoever sees a converted lead reads the account it became.
        register_parent_access(Account, child=Lead, field="converted_account")
        # The audit log keeps a keyed hash of the encrypted fields, never their values.
        auditlog.register(Lead, exclude_fields=["updated_at", "email_blind_index", "phone_blind_index",
                                                "normalized_company", "score_factors"],
                          mask_fields=["email", "phone"], mask_callable="salesapp.crypto.audit_mask")
        auditlog.register(WebToLeadForm)
        auditlog.register(LeadRoutingConfig)
        documents.register()  # searchable; its consumers keep the index current
        imports.register()
        privacy.register()  # data subject requests and retention
        demo.register()
        register_panel(my_leads_panel)
        self._register_with_other_apps(Lead)

    def _register_with_other_apps(self, lead_model) -> None:
        # Lower apps learn about leads through their registries.
        from activities.links import register_link
        from activities.timeline import register_history_provider
        from leads.realignment import LeadRealignment
        from leads.timeline import lead_history_entries
        from territories.realignment import register_provider

        register_link("lead", lead_model)
        register_history_provider("lead", lead_history_entries)
        register_provider("leads", LeadRealignment())
