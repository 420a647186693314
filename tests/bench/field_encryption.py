"""Benchmark: what encrypting leads' email and phone costs the lead list and lead creation, run on demand.

Needs PostgreSQL filled at scale (the seed writes the personal fields encrypted, as the app does):

    createdb sales_leads_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sales_leads_bench REDIS_URL=redis://127.0.0.1:6379/5
    .venv/bin/python manage.py migrate
    DB_STATEMENT_TIMEOUT=0 .venv/bin/python manage.py shell -c "from tests.bench.seed import seed; seed(leads=1_000_000, activities=0)"
    .venv/bin/python tests/bench/field_encryption.py [--requests 200]

For each of (a) the first page of `GET /api/v1/leads/?status=new` (50 rows, email and phone shown) and
(b) `lead_create` (the service behind the API and the UI: validation, blind indexes, dedup-ready
row, routing, event), it reports p50 and p95 twice: as shipped, and with the field's encryption
step replaced by the identity (the column then holds what it is given). The difference is what
encryption costs; nothing else changes between the two runs. Alone, it also times one Fernet
encryption, one decryption and one blind index.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesapp.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from leads import services  # noqa: E402
from leads.models import Lead  # noqa: E402
from salesapp import crypto  # noqa: E402
from salesapp.models import User  # noqa: E402

URL = "/api/v1/leads/?status=new"


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn, n) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


class Rollback(Exception):
    """Leaves the database as it was after a timed creation."""


def create_once(admin, i):
    try:
        with transaction.atomic():
            services.lead_create(actor=admin, email=f"bench.create.{i}@encryption.example", phone="+1 555 010 2030",
                                 first_name="Bench", last_name="Create", company="Bench Encryption Inc")
            raise Rollback
    except Rollback:
        pass


def run(label, admin, client, token, n):
    list_ms = timed(lambda: client.get(URL, HTTP_AUTHORIZATION=token), n)
    counter = iter(range(10**9))
    create_ms = timed(lambda: create_once(admin, next(counter)), n)
    return {"label": label, "list": list_ms, "create": create_ms}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK,
                                      "DEFAULT_THROTTLE_RATES": {"user_minute": "100000000/min"}}).enable()
    admin = User.objects.filter(role="admin", is_active=True).order_by("id").first()
    token = f"Bearer {AccessToken.for_user(admin)}"
    client = Client()
    assert client.get(URL, HTTP_AUTHORIZATION=token).status_code == 200
    print(f"leads: {Lead.objects.count():,}; {args.requests} runs each")
    value = "grace.hopper@navy.example"
    token_value = crypto.encrypt(value)
    for name, fn in (("encrypt", lambda: crypto.encrypt(value)), ("decrypt", lambda: crypto.decrypt(token_value)),
                     ("blind index", lambda: crypto.blind_index("email", value))):
        ms = timed(fn, 20_000)
        print(f"{name:12s} {statistics.median(ms) * 1000:7.1f} µs per value")
    for _ in range(20):  # warm-up
        client.get(URL, HTTP_AUTHORIZATION=token)
    results = [run("encrypted", admin, client, token, args.requests)]
    # The counterfactual: the same field class, its encryption step taken out (reads give the ciphertext back).
    field = crypto.EncryptedTextField
    saved = (field.from_db_value, field.get_prep_value)
    field.from_db_value = lambda self, value, expression, connection: value
    field.get_prep_value = lambda self, value: value
    try:
        results.append(run("no encryption", admin, client, token, args.requests))
    finally:
        field.from_db_value, field.get_prep_value = saved
    print(f"{'':14s} {'list p50':>9s} {'list p95':>9s} {'create p50':>11s} {'create p95':>11s}   (ms)")
    for r in results:
        print(f"{r['label']:14s} {statistics.median(r['list']):9.2f} {percentile(r['list'], 95):9.2f} "
              f"{statistics.median(r['create']):11.2f} {percentile(r['create'], 95):11.2f}")
    enc, plain = results
    print(f"encryption costs the list page {statistics.median(enc['list']) - statistics.median(plain['list']):+.2f} ms "
          f"and a creation {statistics.median(enc['create']) - statistics.median(plain['create']):+.2f} ms (p50)")


if __name__ == "__main__":
    main()
