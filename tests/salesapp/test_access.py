"""restrict(): owners, their managers' subtree and explicit shares see a record; admins see all."""

import pytest
from django.contrib.contenttypes.models import ContentType

from opportunities.models import Account
from salesapp import access
from salesapp.access import CHANGE, DELETE, VIEW, RecordRule
from salesapp.models import RecordShare
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def account_rule():
    """Accounts are owned by `owner` (the opportunities app registers this in ready())."""
    previous = access._rules.get(Account)
    if previous is None:
        access.register_model(Account, RecordRule(owner_field="owner", territory_field="territory"))
    yield
    if previous is None:
        access._rules.pop(Account, None)


@pytest.fixture
def accounts(rep, other_rep, manager):
    return {
        "rep": Account.objects.create(name="Rep's account", owner=rep),
        "other": Account.objects.create(name="Other rep's account", owner=other_rep),
        "manager": Account.objects.create(name="Manager's account", owner=manager),
        "nobody": Account.objects.create(name="Unowned account"),
    }


def _names(user, action=VIEW):
    return sorted(Account.objects.restrict(user, action).values_list("name", flat=True))


def _share(account, user, by=None):
    RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(Account), object_id=str(account.pk), user=user, shared_by=by
    )


def test_rep_sees_only_what_they_own(rep, accounts):
    assert _names(rep) == ["Rep's account"]
    assert _names(rep, CHANGE) == ["Rep's account"]


def test_manager_sees_their_own_and_their_reports_records(manager, accounts):
    assert _names(manager) == ["Manager's account", "Rep's account"]
    assert _names(manager, CHANGE) == ["Manager's account", "Rep's account"]


def test_the_subtree_reaches_any_depth(manager, rep, accounts):
    # Given someone reporting to the rep, who reports to the manager
    junior = UserFactory(email="junior@test.example", manager=rep)
    Account.objects.create(name="Junior's account", owner=junior)
    # Then the manager sees the junior's record, the rep too, and the junior only theirs
    assert "Junior's account" in _names(manager)
    assert _names(rep) == ["Junior's account", "Rep's account"]
    assert _names(junior) == ["Junior's account"]


def test_a_report_does_not_see_their_managers_records(rep, accounts):
    assert "Manager's account" not in _names(rep)


def test_an_explicit_share_lets_a_user_see_a_record(rep, other_rep, accounts):
    _share(accounts["other"], rep, by=other_rep)
    assert _names(rep) == ["Other rep's account", "Rep's account"]
    # and only that user
    assert _names(UserFactory(email="third@test.example")) == []


def test_admin_sees_and_may_change_everything(admin_user, accounts):
    assert len(_names(admin_user)) == 4
    assert len(_names(admin_user, DELETE)) == 4


def test_read_only_reads_what_is_shared_but_never_writes(viewer, accounts):
    _share(accounts["rep"], viewer)
    Account.objects.create(name="Viewer's own", owner=viewer)
    assert _names(viewer) == ["Rep's account", "Viewer's own"]
    assert _names(viewer, CHANGE) == []
    assert _names(viewer, DELETE) == []
    assert not access.can_write(viewer)


def test_inactive_and_anonymous_users_see_nothing(rep, accounts):
    from django.contrib.auth.models import AnonymousUser

    rep.is_active = False
    rep.save()
    assert _names(rep) == []
    assert _names(AnonymousUser()) == []
    assert _names(None) == []


def test_restrict_is_one_query_for_a_manager(manager, rep, accounts, django_assert_num_queries):
    ContentType.objects.get_for_model(Account)  # content types are cached after the first lookup
    with django_assert_num_queries(4):  # the reach, once: subtree, held territories, shares
        _names(manager)
    manager.refresh_from_db()  # a new request's user: the reach comes from the cache
    with django_assert_num_queries(1):
        names = _names(manager)
    assert names == ["Manager's account", "Rep's account"]


def test_a_model_without_a_rule_is_refused_loudly(rep, admin_user):
    from django.core.exceptions import ImproperlyConfigured

    rule = access._rules.pop(Account)
    try:
        for user in (rep, admin_user):
            with pytest.raises(ImproperlyConfigured, match="no access rule"):
                Account.objects.restrict(user)
    finally:
        access._rules[Account] = rule


def test_a_model_without_the_restricted_manager_cannot_take_a_rule():
    from django.core.exceptions import ImproperlyConfigured

    from salesapp.models import OutboxEvent

    with pytest.raises(ImproperlyConfigured, match="RestrictedManager"):
        access.register_model(OutboxEvent, RecordRule())
