"""Fixtures for data subject requests and retention: a person with a lead, a converted deal, activities,
audit and data-access entries; both activity stores; the search server."""

import pytest

from tests.activities.conftest import backend, nx_server  # noqa: F401  (the SQL and MongoDB activity stores)
from tests.salesapp.factories import UserFactory
from tests.search.conftest import delivered, search_on, search_server_url  # noqa: F401  (osmem-server)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin(db):
    return UserFactory(role="admin", email="dpo@test.example", first_name="Data", last_name="Officer")


@pytest.fixture
def manager(db):
    return UserFactory(role="sales_manager", email="boss@test.example", first_name="Mia", last_name="Boss")


@pytest.fixture
def rep(manager):
    return UserFactory(role="sales_rep", manager=manager, email="rep@test.example", first_name="Rob", last_name="Rep")
