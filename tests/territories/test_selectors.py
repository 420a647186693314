"""The reads other apps rely on: subtree ids, members, holders."""

import pytest
from django.contrib.auth.models import Group

from territories import services
from territories.selectors import territories_held_by, territory_members, territory_subtree_ids
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(admin_user):
    root = services.territory_create(actor=admin_user, name="World")
    na = services.territory_create(actor=admin_user, name="NA", parent=root, countries=["US"])
    west = services.territory_create(actor=admin_user, name="West", parent=na, states=["CA"])
    bay = services.territory_create(actor=admin_user, name="Bay", parent=west, zip_codes=["94*"])
    emea = services.territory_create(actor=admin_user, name="EMEA", parent=root, countries=["DE"])
    return {"root": root, "na": na, "west": west, "bay": bay, "emea": emea}


def test_subtree_ids_any_depth_in_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        ids = territory_subtree_ids(tree["na"].pk)
    assert sorted(ids) == sorted([tree["na"].pk, tree["west"].pk, tree["bay"].pk])
    assert territory_subtree_ids(tree["bay"].pk) == [tree["bay"].pk]
    assert len(territory_subtree_ids(tree["root"].pk)) == 5


def test_members_are_active_users_in_a_stable_order(tree, admin_user):
    first, second, gone = (UserFactory(email=f"m{i}@test.example") for i in range(3))
    for user, cap in ((first, 5), (second, None), (gone, 3)):
        services.territory_member_add(actor=admin_user, territory=tree["west"], user=user, daily_capacity=cap)
    gone.is_active = False
    gone.save()
    members = territory_members(tree["west"])
    assert [(m.user.email, m.daily_capacity) for m in members] == [(first.email, 5), (second.email, None)]


def test_held_by_members_groups_and_owners(tree, admin_user):
    member, grouped, owner = (UserFactory(email=f"h{i}@test.example") for i in range(3))
    services.territory_member_add(actor=admin_user, territory=tree["west"], user=member)
    group = Group.objects.create(name="Europe desk")
    grouped.groups.add(group)
    services.territory_grant_add(actor=admin_user, territory=tree["emea"], group=group)
    services.territory_update(actor=admin_user, territory=tree["na"], owner=owner)
    assert [t.name for t in territories_held_by(user=member)] == ["West"]
    assert [t.name for t in territories_held_by(user=grouped)] == ["EMEA"]
    assert [t.name for t in territories_held_by(user=owner)] == ["NA"]


def test_match_returns_a_copy_callers_cannot_corrupt(tree):
    from territories.matching import territory_match

    first = territory_match({"country": "US", "state": "CA", "postal_code": "94107"})
    assert first.territory.name == "Bay"
    first.territory.name = "changed by a caller"
    assert territory_match({"country": "US", "state": "CA", "postal_code": "94107"}).territory.name == "Bay"
