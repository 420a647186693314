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


def test_groups_map_to_the_most_powerful_mapped_role_else_the_default(oidc_settings, settings):
    from salesapp.oidc import role_for

    settings.OIDC_ROLE_MAP = {"Sales Reps": "sales_rep", "Sales Managers": "sales_manager"}
    assert role_for({"groups": ["Everyone", "Sales Reps", "Sales Managers"]}) == "sales_manager"
    assert role_for({"groups": "Sales Reps"}) == "sales_rep"  # a provider may send one group as a string
    assert role_for({"groups": ["Everyone"]}) == "read_only"
    assert role_for({}) == "read_only"


def test_each_sign_in_brings_names_and_role_up_to_date_and_records_the_subject(oidc_settings, settings):
    settings.OIDC_ROLE_MAP = {"Sales Managers": "sales_manager"}
    rep = UserFactory(email="jane@test.example", first_name="Jane", role="sales_rep")
    updated = oidc_settings.update_user(rep, {"sub": "00u1", "email": "jane@test.example", "given_name": "Janet",
                                              "family_name": "West", "groups": ["Sales Managers"]})
    stored = User.objects.get(pk=rep.pk)
    assert (stored.first_name, stored.last_name, stored.role, stored.oidc_subject) == (
        "Janet", "West", "sales_manager", "00u1")
    assert list(stored.groups.values_list("name", flat=True)) == ["sales_manager"]
    assert updated.pk == rep.pk


def test_a_bearer_token_from_another_issuer_is_left_to_our_own_jwt_authentication(settings):
    from rest_framework.test import APIClient

    from salesapp.tokens import AccessToken

    settings.OIDC_API_AUDIENCE = "https://api.sales.test"
    settings.OIDC_OP_ISSUER = "https://idp.test.example"
    rep = UserFactory(email="jane@test.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(rep)}")  # one of ours
    assert client.get("/api/v1/leads/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert client.get("/api/v1/leads/").status_code == 401
