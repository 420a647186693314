from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    """Accounts, contacts, deals, pipeline and forecasts."""

    name = "opportunities"
