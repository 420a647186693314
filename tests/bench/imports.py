"""Import speed: rows a second for leads and activities through the import runner, and peak memory.

    DATABASE_URL=postgres://... python tests/bench/imports.py [leads_rows] [activity_rows]

Runs a real import job (the kernel runner, the kinds' bulk writers) on generated files in a throwaway
database; reports rows/s per kind and the process's peak resident memory.
"""

import os
import resource
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
django.setup()

from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()
from django.test.utils import get_runner  # noqa: E402


def main(lead_rows: int, activity_rows: int) -> None:
    from django.conf import settings

    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        from salesapp.imports import import_job_create, import_job_run
        from salesapp.roles import Role
        from tests.salesapp.factories import UserFactory

        admin = UserFactory(role=Role.ADMIN, email="bench-admin@example.com")
        leads = "external_id,email,first_name,last_name,company,owner_email,created_at\n" + "".join(
            f"B{n},b{n}@bench.example,Pat,Lee{n},Bench {n % 500},{admin.email},2025-01-01T00:00:00Z\n"
            for n in range(lead_rows))
        activities = "external_id,type,subject,lead_external_id,owner_email,completed_at\n" + "".join(
            f"A{n},call,Call {n},B{n % lead_rows},{admin.email},2025-02-01T00:00:00Z\n" for n in range(activity_rows))
        for kind, content, rows in (("leads", leads, lead_rows), ("activities", activities, activity_rows)):
            job = import_job_create(actor=admin, kind=kind, content=content.encode(), filename=f"{kind}.csv")
            start = time.perf_counter()
            job = import_job_run(job.pk)
            took = time.perf_counter() - start
            print(f"{kind}: {rows} rows in {took:.1f} s = {rows / took:.0f} rows/s ({job.status}: {job.message})")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 5000)
