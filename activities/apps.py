from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    """Activities: emails, calls, meetings, demos, tasks."""

    name = "activities"
