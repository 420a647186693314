"""Roles are Django groups carrying the seed's permission matrix."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from salesapp.models import User
from salesapp.roles import perm
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db

# The seed's matrix: who may do what with opportunities, territories and quotas.
SEED = {
    "admin": {"opportunity:read", "opportunity:write", "opportunity:delete", "territory:assign", "quota:set"},
    "sales_manager": {"opportunity:read", "opportunity:write", "opportunity:delete", "territory:assign", "quota:set"},
    "sales_rep": {"opportunity:read", "opportunity:write"},
    "read_only": {"opportunity:read"},
}
SEED_CODES = set().union(*SEED.values())


@pytest.mark.parametrize("role", list(SEED))
def test_each_role_group_carries_the_seed_matrix(role):
    # Given the role's group after migrate
    group = Group.objects.get(name=role)
    codes = set(group.permissions.values_list("codename", flat=True))
    # Then it grants exactly the seed's permissions for that role
    assert codes & SEED_CODES == SEED[role]


@pytest.mark.parametrize("role", list(SEED))
def test_a_user_of_each_role_has_exactly_those_permissions(role):
    user = UserFactory(role=role)
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    allowed = {code for code in SEED_CODES if user.has_perm(perm(code))}
    assert allowed == SEED[role]


def test_read_only_has_no_write_permission_at_all():
    viewer = User.objects.get(pk=UserFactory(role="read_only").pk)
    group_codes = Group.objects.get(name="read_only").permissions.values_list("codename", flat=True)
    assert all(code.endswith(":read") for code in group_codes)
    assert not viewer.has_perm(perm("lead:write"))
    assert viewer.has_perm(perm("lead:read"))


def test_changing_a_users_role_moves_their_group(bearer, admin_user):
    rep = UserFactory(role="sales_rep", email="promoted@test.example")
    assert list(rep.groups.values_list("name", flat=True)) == ["sales_rep"]
    # When the admin promotes the rep to manager
    response = bearer(admin_user).patch(f"/api/v1/users/{rep.pk}/", {"role": "sales_manager"})
    assert response.status_code == 200
    # Then they leave the rep group, join the manager group and gain its permissions
    promoted = User.objects.get(pk=rep.pk)
    assert list(promoted.groups.values_list("name", flat=True)) == ["sales_manager"]
    assert promoted.has_perm(perm("quota:set"))


def test_sync_is_idempotent_and_keeps_what_an_admin_added():
    from django.contrib.auth.models import Permission

    extra = Permission.objects.get(codename="user:manage")
    Group.objects.get(name="sales_manager").permissions.add(extra)
    call_command("migrate", verbosity=0)  # runs roles_sync again
    assert Group.objects.filter(name__in=SEED).count() == 4
    assert Group.objects.get(name="sales_manager").permissions.filter(codename="user:manage").exists()


def test_createsuperuser_noinput_makes_an_admin_role_user(monkeypatch, bearer):
    # Given the two environment variables
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Test.example")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-secret-42")
    # When createsuperuser runs without prompts
    call_command("createsuperuser", interactive=False, verbosity=0)
    # Then an admin-role user in the admin group exists
    user = User.objects.get(email="root@test.example")
    assert (user.role, user.is_superuser, user.is_staff, user.is_active) == ("admin", True, True, True)
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]
    # And they can use the API as an admin
    client = bearer(user, password="root-secret-42")
    me = client.get("/api/v1/users/me/")
    assert me.json()["role"] == "admin"
    assert client.get("/api/v1/events/").status_code == 200
