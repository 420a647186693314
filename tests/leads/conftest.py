import pytest

from tests.salesapp.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made by the dozen here; hashing their passwords properly is not what these tests test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def jane(manager):
    return UserFactory(role="sales_rep", manager=manager, email="jane@test.example", first_name="Jane",
                       last_name="West")


@pytest.fixture
def raj(manager):
    return UserFactory(role="sales_rep", manager=manager, email="raj@test.example", first_name="Raj",
                       last_name="East")


@pytest.fixture
def lena(manager):
    return UserFactory(role="sales_rep", manager=manager, email="lena@test.example", first_name="Lena",
                       last_name="North")
