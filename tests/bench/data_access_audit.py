"""Benchmark: what the data-access audit costs a request (run on demand).

    .venv/bin/python tests/bench/data_access_audit.py [--runs 300]

On the embedded default (a fresh SQLite database in a temporary folder, unless DATABASE_URL is
set), it sends GET /api/v1/leads/<id>/ (a detail read) and GET /api/v1/leads/ (a page of 50 rows)
through the WSGI handler, with and without `DataAccessMiddleware`, and times separately:

- until the handler answers (what the client waits for), and
- the response's close, where the entries are written (one insert), after the body went out.

It prints p50/p95 in milliseconds per row.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("SALES_DATA_DIR", tempfile.mkdtemp(prefix="bench-audit-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from leads.models import Lead  # noqa: E402
from salesapp.crypto import blind_index  # noqa: E402
from salesapp.models import DataAccess, User  # noqa: E402
from salesapp.services import user_create  # noqa: E402

MIDDLEWARE = "salesapp.access_log.DataAccessMiddleware"


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def once(handler, environ: dict) -> tuple[float, float]:
    """(ms until the body was answered, ms of the response's close)."""
    start = time.perf_counter()
    response = handler(dict(environ), lambda status, headers, exc_info=None: None)
    body = b"".join(response)
    middle = time.perf_counter()
    response.close()
    end = time.perf_counter()
    assert body
    return (middle - start) * 1000, (end - middle) * 1000


def measure(environ: dict, runs: int, without: list[str]) -> tuple[list[float], list[float], list[float]]:
    """Plain and audited requests alternate, so both meet the same machine load."""
    with override_settings(MIDDLEWARE=without):
        plain_handler = WSGIHandler()
    audited_handler = WSGIHandler()
    plain, audited, closes = [], [], []
    for i in range(runs + 10):
        answered, _ = once(plain_handler, environ)
        answered_audited, closed = once(audited_handler, environ)
        if i >= 10:
            plain.append(answered)
            audited.append(answered_audited)
            closes.append(closed)
    return plain, audited, closes


def main() -> None:
    # Hundreds of requests a minute as one user: the per-user throttle would answer 429.
    override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                      "DEFAULT_THROTTLE_RATES": {"user_minute": "1000000/min"}}).enable()
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="bench-audit@bench.example").first() or user_create(
        email="bench-audit@bench.example", password="bench-audit-pass", role="admin")
    if Lead.objects.count() < 50:
        Lead.objects.bulk_create([Lead(first_name="Bench", last_name=f"Lead {i}", email=f"lead{i}@bench.example",
                                       email_blind_index=blind_index("email", f"lead{i}@bench.example"),
                                       company="Bench Inc")
                                  for i in range(50)])
    lead_id = Lead.objects.order_by("id").values_list("id", flat=True).first()
    token = f"Bearer {AccessToken.for_user(user)}"
    factory = RequestFactory()
    without = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    rows = []
    for label, path in (("lead detail", f"/api/v1/leads/{lead_id}/"), ("leads page of 50", "/api/v1/leads/")):
        environ = factory.get(path, HTTP_AUTHORIZATION=token).environ
        before = DataAccess.objects.count()
        plain, audited, closes = measure(environ, args.runs, without)
        assert DataAccess.objects.count() - before == args.runs + 10, "every audited request wrote its entry"
        rows.append((label, plain, audited, closes))
    print(f"{'request':18} {'answer p50/p95 without':>24} {'answer p50/p95 with':>22} {'close p50/p95 with':>22}")
    for label, plain, audited, closes in rows:
        a0, a1 = percentiles(plain)
        b0, b1 = percentiles(audited)
        c0, c1 = percentiles(closes)
        print(f"{label:18} {a0:12.2f} / {a1:6.2f} ms {b0:10.2f} / {b1:6.2f} ms {c0:10.2f} / {c1:6.2f} ms")


if __name__ == "__main__":
    main()
