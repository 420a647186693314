import factory
from guardian.shortcuts import assign_perm

from leads.models import Lead
from salesapp.crypto import blind_index
from salesapp.normalize import normalize_company
from territories.matching import assignment_index_invalidate
from territories.models import Territory, TerritoryMember, TerritoryModel
from territories.selectors import ACCESS_PERM


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead row (straight to the table; behaviour tests create leads through the services)."""

    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@acme{n}.example")
    company = factory.Sequence(lambda n: f"Company {n}")
    phone = ""
    email_blind_index = factory.LazyAttribute(lambda o: blind_index("email", o.email))
    phone_blind_index = factory.LazyAttribute(lambda o: blind_index("phone", o.phone))
    normalized_company = factory.LazyAttribute(lambda o: normalize_company(o.company))


def active_plan() -> TerritoryModel:
    plan = TerritoryModel.objects.filter(state="active").first()
    return plan or TerritoryModel.objects.create(name="Active plan", state="active")


def make_territory(name, *, members=(), policy="round_robin", owner=None, capacities=None, **rules) -> Territory:
    """A territory in the active plan with members (in this order, holding it as membership grants) and optional
    daily capacities."""
    territory = Territory.objects.create(model=active_plan(), name=name, routing_policy=policy, owner=owner, **rules)
    for user in members:
        TerritoryMember.objects.create(territory=territory, user=user,
                                       daily_capacity=(capacities or {}).get(user.pk))
        assign_perm(ACCESS_PERM, user, territory)
    assignment_index_invalidate()
    return territory
