"""The demo loader: activities on whatever leads, deals and accounts the other apps registered."""

import pytest

from activities import demo
from activities.store import get_store
from tests.activities.factories import AccountFactory, OpportunityFactory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(admin_user, manager, rep):
    reps = [rep, UserFactory(role="sales_rep", manager=manager), UserFactory(role="sales_rep", manager=manager)]
    return {"admin": admin_user, "manager": manager, "reps": reps, "viewer": UserFactory(role="read_only")}


def test_demo_activities_land_on_registered_records_and_my_tasks(sql_store, demo_users):
    rep = demo_users["reps"][0]
    deals = [OpportunityFactory(owner=rep, account=AccountFactory(owner=rep)) for _ in range(4)]
    demo.load_demo_activities(demo_users)
    store = get_store()
    assert store.count(("in", "opportunity_id", [d.pk for d in deals])) >= 4
    assert store.count(("and", [("eq", "user_id", rep.pk), ("eq", "type", "task"), ("null", "completed_at", True)])) >= 3
    # the deals' activities are the deal owner's, and show on the account's timeline
    first = store.find(("eq", "opportunity_id", deals[0].pk), limit=1)[0]
    assert first["user_id"] == rep.pk and first["account_id"] == deals[0].account_id


def test_demo_without_leads_deals_or_accounts_gives_users_tasks_and_meetings(sql_store, demo_users):
    demo.load_demo_activities(demo_users)
    store = get_store()
    for user in demo_users["reps"]:
        assert store.count(("and", [("eq", "user_id", user.pk), ("eq", "type", "task")])) == 4  # 3 own + 1 open task
        assert store.count(("and", [("eq", "user_id", user.pk), ("in", "type", ["meeting", "demo"])])) <= 1
