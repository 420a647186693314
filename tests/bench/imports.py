"""Import speed: rows a second for leads and activities, imported by a real Celery worker, and its peak memory.

    DATABASE_URL=postgres://.../sales_bench CELERY_BROKER_URL=amqp://.../vhost \\
        PYTHONPATH=. python tests/bench/imports.py [lead_rows] [activity_rows]

The database must be a throwaway one (it is migrated and written to). The bench starts one worker on the
`jobs` and `events` queues (as `make worker` does), queues an import job per kind through the same path as
the API, waits for it, and reports rows/s from the job's own start and finish times, and the worker's peak
resident memory (VmHWM of its processes). The activities name their leads by external id.
"""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from salesapp.imports import import_job_create, import_job_start  # noqa: E402
from salesapp.models import ImportJob  # noqa: E402
from salesapp.roles import Role  # noqa: E402
from salesapp.services import user_create  # noqa: E402


def _peak_kb(pid: int) -> int:
    """The largest VmHWM of the worker and its children (kB)."""
    pids = [pid, *(int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                                                  check=False)
                   .stdout.split())]
    peak = 0
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


def _import(actor, kind: str, content: str) -> ImportJob:
    with transaction.atomic():
        job = import_job_create(actor=actor, kind=kind, content=content.encode(), filename=f"{kind}.csv")
        import_job_start(job)
    while True:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.5)


def main(lead_rows: int, activity_rows: int) -> None:
    assert os.environ.get("DATABASE_URL") and os.environ.get("CELERY_BROKER_URL"), "needs PostgreSQL and a broker"
    call_command("migrate", verbosity=0)
    run = int(time.time())
    admin = user_create(email=f"bench-importer-{run}@example.com", password=secrets.token_urlsafe(16), role=Role.ADMIN)
    leads = "external_id,email,first_name,last_name,company,owner_email,created_at\n" + "".join(
        f"B{run}-{n},b{n}.{run}@bench.example,Pat,Lee{n},Bench {n % 500},{admin.email},2025-01-01T00:00:00Z\n"
        for n in range(lead_rows))
    activities = "external_id,type,subject,lead_external_id,owner_email,completed_at,created_at\n" + "".join(
        f"A{run}-{n},call,Call {n},B{run}-{n % lead_rows},{admin.email},2025-02-01T00:00:00Z,2025-02-01T00:00:00Z\n"
        for n in range(activity_rows))
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "salesapp", "worker", "-Q", "jobs,events",
                               "-c", "1", "-l", "warning", "-n", f"bench-imports-{run}@%h"])
    try:
        time.sleep(8)  # the worker connects
        for kind, content, rows in (("leads", leads, lead_rows), ("activities", activities, activity_rows)):
            job = _import(admin, kind, content)
            took = (job.finished_at - job.started_at).total_seconds()
            print(f"{kind}: {rows} rows in {took:.1f} s = {rows / took:.0f} rows/s ({job.status}: {job.message})")
        print(f"worker peak resident memory: {_peak_kb(worker.pid) / 1024:.0f} MB")
    finally:
        worker.terminate()
        worker.wait(timeout=60)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 5000)
