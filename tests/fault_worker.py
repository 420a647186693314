"""The Celery app a fault test's worker runs: the project's own, plus a probe consumer.

The probe records each application in `probe_applied` (a table the test creates, with no unique key) inside
the consumer's transaction, so the test can count applications: a lost one is missing, a double one shows
twice. PROBE_SLEEP keeps the worker busy so faults land mid-delivery.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from django.db import connection  # noqa: E402  (after django.setup(): this module is the worker's entry point)

from salesapp.celery import app  # noqa: E402, F401  (the app `celery -A tests.fault_worker` runs)
from salesapp.events import consumer  # noqa: E402

PROBE_EVENTS = ("quota.updated", "activity.logged")


def probe(event: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO probe_applied (event_id, consumer) VALUES (%s, %s)", [event["id"], "probe"])
    time.sleep(float(os.environ.get("PROBE_SLEEP", "0")))


def register() -> None:
    consumer("probe.applied", *PROBE_EVENTS)(probe)


if os.environ.get("FAULT_WORKER") == "1":  # the worker process; the test process registers it in a fixture
    register()
