"""The search engine's access filter and restrict() are one rule: for random users and records, the id sets
`salesapp.access.visibility()` hands the engine select exactly the records `restrict()` answers."""

import random

import pytest
from django.contrib.contenttypes.models import ContentType

from leads.models import Lead
from opportunities.models import Account, Contact, Opportunity
from salesapp.access import VIEW, visibility
from salesapp.models import RecordShare
from territories.models import Territory
from tests.leads.factories import LeadFactory, make_territory
from tests.salesapp.factories import UserFactory

pytestmark = pytest.mark.django_db


def _value(record, field):
    if field == "pk":
        return record.pk
    return getattr(record, record._meta.get_field(field).attname)


def _seen_through(vis, records) -> set[int]:
    """The records the id sets select, as the engine's filter does (any field's value in its set)."""
    if vis.everything:
        return {r.pk for r in records}
    return {r.pk for r in records if any(_value(r, field) in ids for field, ids in vis.ids.items())}


@pytest.mark.parametrize("seed", [7, 2024])
def test_visibility_sets_and_restrict_agree_for_random_users_and_records(seed):
    rng = random.Random(seed)
    roles = ["sales_rep"] * 6 + ["sales_manager"] * 2 + ["read_only", "admin"]
    users = []
    for i, role in enumerate(roles):
        manager = rng.choice([None, *[u for u in users if u.role == "sales_manager"]])
        users.append(UserFactory(role=role, manager=manager, email=f"v{seed}.{i}@test.example"))
    territories = []
    for i in range(4):
        territory = make_territory(f"T{seed}-{i}", members=rng.sample(users, 2), owner=rng.choice([None, *users]))
        if territories and rng.random() < 0.5:
            Territory.objects.filter(pk=territory.pk).update(parent=rng.choice(territories))
        territories.append(territory)

    def some(options):
        return rng.choice([None, *options])

    accounts = [Account.objects.create(name=f"A{i}", owner=some(users), territory=some(territories)) for i in range(12)]
    contacts = [Contact.objects.create(account=rng.choice(accounts), last_name=f"C{i}") for i in range(16)]
    deals = [Opportunity.objects.create(name=f"D{i}", account=rng.choice(accounts), owner=rng.choice(users),
                                        territory=some(territories), stage_id="discovery") for i in range(12)]
    leads = [LeadFactory(assigned_to=some(users), territory=some(territories),
                         converted_account=rng.choice([None, None, *accounts])) for _ in range(20)]
    records = {Lead: leads, Account: accounts, Contact: contacts, Opportunity: deals,
               Territory: list(Territory.objects.all())}
    for model, rows in records.items():
        for row in rng.sample(rows, 3):
            RecordShare.objects.get_or_create(content_type=ContentType.objects.get_for_model(model),
                                              object_id=str(row.pk), user=rng.choice(users))

    for user in users:
        for model, rows in records.items():
            restricted = set(model.objects.restrict(user, VIEW).values_list("pk", flat=True))
            assert _seen_through(visibility(user, model), rows) == restricted, f"{model.__name__} for {user.role}"


def test_the_engine_filter_covers_each_way_of_seeing_a_record(rep, other_rep, manager):
    # Given a lead of the rep's, one in a territory they hold, one shared with them, and another team's
    north = make_territory("North", members=[rep])
    own, held, shared, other = (LeadFactory(assigned_to=rep), LeadFactory(assigned_to=other_rep, territory=north),
                                LeadFactory(assigned_to=other_rep), LeadFactory(assigned_to=other_rep))
    RecordShare.objects.create(content_type=ContentType.objects.get_for_model(Lead), object_id=str(shared.pk), user=rep)
    account = Account.objects.create(name="Read through its deal", owner=other_rep)
    Opportunity.objects.create(name="The rep's deal", account=account, owner=rep, stage_id="discovery")

    vis = visibility(rep, Lead)
    assert {rep.pk, } <= vis.get("assigned_to") and manager.pk not in vis.get("assigned_to")
    assert north.pk in vis.get("territory") and shared.pk in vis.get("pk")
    assert _seen_through(vis, [own, held, shared, other]) == {own.pk, held.pk, shared.pk}
    assert account.pk in visibility(rep, Account).get("pk")  # implicit parent access
    assert visibility(manager, Lead).get("assigned_to") >= {manager.pk, rep.pk}  # the subtree
    assert visibility(UserFactory(role="admin", email="adm@test.example"), Lead).everything
