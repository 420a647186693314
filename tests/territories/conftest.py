"""Fixtures for territory tests: real Account and Lead rows behind test-only realignment providers."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count

from leads.models import Lead
from opportunities.models import Account
from territories import realignment


def _counts(queryset, territory_ids, user) -> dict[int, int]:
    return dict(queryset.restrict(user).filter(territory_id__in=territory_ids).order_by()
                .values_list("territory_id").annotate(n=Count("pk")))


class AccountProvider:
    """Test-only provider: every account may move."""

    label = "accounts"

    def __init__(self, fail_on_batch: int | None = None):
        self.fail_on_batch = fail_on_batch
        self.batches = 0

    def iter_candidates(self, batch_size):
        rows = list(Account.objects.order_by("pk").values_list(
            "pk", "name", "billing_country", "billing_state", "billing_postal_code", "industry",
            "employee_count", "annual_revenue", "territory_id"))
        for i in range(0, len(rows), batch_size):
            yield [
                (pk, {"label": name, "country": c, "state": s, "postal_code": z, "industry": ind,
                      "employee_count": e, "annual_revenue": r}, t)
                for pk, name, c, s, z, ind, e, r, t in rows[i:i + batch_size]
            ]

    def territory_counts(self, territory_ids, *, user):
        return _counts(Account.objects.all(), territory_ids, user)

    def apply_moves(self, moves, actor):
        self.batches += 1
        with transaction.atomic():
            for n, (pk, to) in enumerate(moves):
                Account.objects.filter(pk=pk).update(territory_id=to)
                if self.fail_on_batch == self.batches and n == len(moves) // 2:
                    raise RuntimeError("database went away mid-batch")


class LeadProvider:
    """Test-only provider: open leads move, converted ones keep their territory."""

    label = "leads"

    def iter_candidates(self, batch_size):
        qs = Lead.objects.exclude(status=Lead.Status.CONVERTED).order_by("pk")
        rows = list(qs.values_list("pk", "email", "country", "state", "postal_code", "industry",
                                   "employee_count", "annual_revenue", "territory_id"))
        for i in range(0, len(rows), batch_size):
            yield [
                (pk, {"label": email, "country": c, "state": s, "postal_code": z, "industry": ind,
                      "employee_count": e, "annual_revenue": r}, t)
                for pk, email, c, s, z, ind, e, r, t in rows[i:i + batch_size]
            ]

    def territory_counts(self, territory_ids, *, user):
        return _counts(Lead.objects.all(), territory_ids, user)

    def apply_moves(self, moves, actor):
        with transaction.atomic():
            for pk, to in moves:
                Lead.objects.filter(pk=pk).update(territory_id=to)


@pytest.fixture
def test_providers():
    """Replace whatever the apps registered with the two test providers (restored afterwards)."""
    saved = realignment.providers()
    for key in saved:
        realignment.unregister_provider(key)
    accounts, leads = AccountProvider(), LeadProvider()
    realignment.register_provider("accounts", accounts)
    realignment.register_provider("leads", leads)
    yield {"accounts": accounts, "leads": leads}
    for key in list(realignment.providers()):
        realignment.unregister_provider(key)
    for key, provider in saved.items():
        realignment.register_provider(key, provider)


def make_account(name, *, country="", state="", postal_code="", industry="", employees=None, revenue=None,
                 territory=None, owner=None):
    return Account.objects.create(
        name=name, billing_country=country, billing_state=state, billing_postal_code=postal_code,
        industry=industry, employee_count=employees,
        annual_revenue=Decimal(str(revenue)) if revenue is not None else None, territory=territory, owner=owner,
    )


def make_lead(email, *, country="", state="", postal_code="", industry="", territory=None, status="new",
              assigned_to=None):
    return Lead.objects.create(email=email, country=country, state=state, postal_code=postal_code,
                               industry=industry, territory=territory, status=status, assigned_to=assigned_to)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing is not under test here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
