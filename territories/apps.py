from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    """Territories: rules, hierarchy, assignment, access."""

    name = "territories"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from salesapp.access import RecordRule, register_model, register_scope
        from salesapp.demo import register_loader
        from salesapp.home import register_panel
        from salesapp.imports import register_territory_resolver
        from territories.access import (
            connect_access_invalidation,
            held_territory_ids,
            realignment_job_q,
            territory_model_q,
        )
        from territories.demo import load_demo
        from territories.matching import territory_by_name
        from territories.models import RealignmentJob, Territory, TerritoryMember, TerritoryModel
        from territories.realignment import register_realignment_jobs
        from territories.views import my_territories_panel

        register_scope("territories", rule_field="territory_field", ids=held_territory_ids)
        connect_access_invalidation()
        # A territory is visible to who holds it (or an ancestor of it), owns it, or manages either.
        register_model(Territory, RecordRule(owner_field="owner", territory_field="id"))
        register_model(TerritoryModel, RecordRule(owner_field=None, territory_field=None, q=territory_model_q))
        register_model(RealignmentJob, RecordRule(owner_field=None, territory_field=None, q=realignment_job_q))
        register_territory_resolver(territory_by_name)
        register_realignment_jobs()
        register_loader(10, "territories", load_demo)
        register_panel(my_territories_panel)
        auditlog.register(TerritoryModel)
        auditlog.register(Territory)
        auditlog.register(TerritoryMember)
        auditlog.register(RealignmentJob, include_fields=["status", "rules_applied", "processed", "total"])
