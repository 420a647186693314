"""Role permissions are read from the cache, and changes apply on the next request."""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesapp.models import User
from salesapp.roles import perm


def _fresh(user):
    return User.objects.get(pk=user.pk)  # a new request loads a new user object


def test_a_second_request_checks_the_role_matrix_without_queries(rep):
    assert _fresh(rep).has_perm(perm("opportunity:write"))
    user = _fresh(rep)
    with CaptureQueriesContext(connection) as ctx:
        assert user.has_perm(perm("opportunity:write"))
        assert not user.has_perm(perm("quota:set"))
    assert len(ctx.captured_queries) == 0


def test_an_admin_granting_a_permission_to_a_role_applies_on_the_next_request(rep):
    assert not _fresh(rep).has_perm(perm("quota:set"))
    Group.objects.get(name="sales_rep").permissions.add(Permission.objects.get(codename="quota:set"))
    assert _fresh(rep).has_perm(perm("quota:set"))


def test_a_role_change_applies_on_the_next_request(rep, admin_user):
    from salesapp.services import user_update

    assert not _fresh(rep).has_perm(perm("territory:assign"))
    user_update(actor=admin_user, user=_fresh(rep), role="sales_manager")
    assert _fresh(rep).has_perm(perm("territory:assign"))
    user_update(actor=admin_user, user=_fresh(rep), role="read_only")
    assert not _fresh(rep).has_perm(perm("opportunity:write"))
