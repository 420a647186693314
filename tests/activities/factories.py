"""Rows for activity tests: accounts, deals, contacts and leads made with the ORM."""

import factory

from opportunities.models import Account, Contact, Opportunity, Stage


def stage(key="prospecting"):
    found, _ = Stage.objects.get_or_create(
        key=key, defaults={"label": key.title(), "order": 1, "default_probability": 10}
    )
    return found


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    last_name = factory.Sequence(lambda n: f"Contact{n}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    account = factory.SubFactory(AccountFactory)
    stage = factory.LazyFunction(stage)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Lead"

    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")
    last_name = factory.Sequence(lambda n: f"Lead{n}")
