from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """Intelligence: scoring, next best action, analytics."""

    name = "intelligence"
