"""The Celery app. Eager (in process) unless CELERY_BROKER_URL is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")

app = Celery("salesapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Eager tasks still take a producer from the pool: with no broker configured, an in-memory transport
# stands in, so kombu neither guesses "localhost" nor warns about a broker nobody configured.
if not app.conf.broker_url:
    app.conf.broker_url = "memory://localhost/"


def tasks_run_in_process() -> bool:
    """True when tasks run eagerly in the calling process (the embedded default, and tests): no worker, no beat."""
    return bool(app.conf.task_always_eager)
