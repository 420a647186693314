from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    """Territories: rules, hierarchy, assignment, access."""

    name = "territories"
