"""Single sign-on: OIDC identities are matched to users by email; newcomers get the default role."""

import pytest

from salesapp.models import User
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc_settings(settings):
    settings.OIDC_RP_CLIENT_ID = "sales-client"
    settings.OIDC_RP_CLIENT_SECRET = "sales-secret"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.test.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.test.example/userinfo"
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    settings.OIDC_DEFAULT_ROLE = "read_only"
    from salesapp.oidc import SalesOIDCBackend

    return SalesOIDCBackend()


def test_an_existing_user_is_matched_by_email_case_insensitively(oidc_settings):
    rep = UserFactory(email="jane@test.example")
    assert list(oidc_settings.filter_users_by_claims({"email": "Jane@Test.Example"})) == [rep]


def test_a_deactivated_user_is_not_matched(oidc_settings):
    UserFactory(email="gone@test.example")
    User.objects.filter(email="gone@test.example").update(is_active=False)
    assert not oidc_settings.filter_users_by_claims({"email": "gone@test.example"}).exists()


def test_claims_without_email_match_nobody(oidc_settings):
    UserFactory(email="jane@test.example")
    assert not oidc_settings.filter_users_by_claims({"sub": "123"}).exists()


def test_a_newcomer_gets_the_default_role_and_no_local_password(oidc_settings):
    user = oidc_settings.create_user({"email": "New.Person@Test.example", "given_name": "New", "family_name": "Person"})
    assert (user.email, user.role, user.get_full_name()) == ("new.person@test.example", "read_only", "New Person")
    assert list(user.groups.values_list("name", flat=True)) == ["read_only"]
    assert not user.has_usable_password()
