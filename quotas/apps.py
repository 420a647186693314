from django.apps import AppConfig


class QuotasConfig(AppConfig):
    """Quotas: planning, allocation, attainment."""

    name = "quotas"
