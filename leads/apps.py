from django.apps import AppConfig


class LeadsConfig(AppConfig):
    """Leads: capture, dedup, qualification, routing, conversion."""

    name = "leads"
