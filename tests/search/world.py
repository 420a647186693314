"""A small world where one common word ("orbit") is on records of every kind that a rep may and may not see:
their own, their team's, a territory they hold, a record shared with them, an account they read through
one of its deals (implicit parent access), and another team's."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from leads import services as leads
from leads.models import Lead
from opportunities.services import accounts, contacts, deals
from salesapp.models import RecordShare, User
from tests.leads.factories import make_territory
from tests.salesapp.factories import UserFactory

ROLES = {"admin": "admin", "manager": "sales_manager", "rep": "sales_rep", "teammate": "sales_rep",
         "outsider": "sales_rep", "viewer": "read_only"}


def _share(record, user):
    RecordShare.objects.create(content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk),
                               user=user)


def build_world() -> dict[str, User]:
    """The people of the world by name (admin, manager, rep, teammate, outsider, viewer), records made."""
    people = {}
    for name, role in ROLES.items():
        boss = people["manager"] if name in ("rep", "teammate") else None
        people[name] = UserFactory(role=role, manager=boss, email=f"w.{name}@test.example")
    admin, rep, teammate, outsider = people["admin"], people["rep"], people["teammate"], people["outsider"]
    viewer = people["viewer"]
    north = make_territory("North", members=[rep, viewer], countries=["NO"])
    south = make_territory("South", members=[outsider], countries=["ES"])
    now = timezone.now()

    def lead(owner, territory, status, days, n):
        return leads.lead_create(actor=admin, first_name="Ola", last_name=f"Orbit{n}", company=f"Orbit Works {n}",
                                 email=f"ola{n}@orbit.example", assigned_to=owner, territory=territory,
                                 status=status, created_at=now - timedelta(days=days))

    lead(rep, north, "new", 2, 1)
    lead(rep, north, "contacted", 40, 2)
    lead(teammate, south, "new", 10, 3)
    lead(outsider, north, "qualified", 200, 4)  # the rep sees it: it lies in North
    lead(outsider, south, "new", 500, 5)  # nobody of the rep's team sees it
    _share(lead(outsider, south, "contacted", 3, 6), rep)  # shared with the rep
    merged = lead(rep, north, "new", 5, 7)
    Lead.objects.filter(pk=merged.pk).update(merged_into=Lead.objects.filter(last_name="Orbit1").first())

    def account(name, owner, country, days):
        made = accounts.account_create(actor=admin, name=name, owner=owner, billing_country=country,
                                       created_at=now - timedelta(days=days))
        contacts.contact_create(actor=admin, account=made, first_name="Cora", last_name="Orbit",
                                email=f"cora.{made.pk}@orbit.example", owner=owner)
        return made

    alpha = account("Orbit Alpha", rep, "NO", 1)
    beta = account("Orbit Beta", outsider, "ES", 15)  # the rep reads it through the deal they own on it
    gamma = account("Orbit Gamma", outsider, "ES", 90)  # out of the rep's sight
    delta = account("Orbit Delta", outsider, "ES", 400)
    _share(delta, rep)
    deals.opportunity_create(actor=admin, account=beta, name="Orbit renewal", owner=rep, territory=north)
    deals.opportunity_create(actor=admin, account=gamma, name="Orbit expansion", owner=outsider, territory=south)
    deals.opportunity_create(actor=admin, account=alpha, name="Orbit pilot", owner=teammate, territory=north,
                             stage="qualification")
    return people
