import factory

from opportunities.services import accounts, deals
from tests.salesapp.factories import UserFactory


class AccountFactory(factory.django.DjangoModelFactory):
    """An account created through the service (territory matched, name normalised)."""

    class Meta:
        model = "opportunities.Account"

    name = factory.Sequence(lambda n: f"Company {n} Ltd")
    website_domain = factory.Sequence(lambda n: f"company{n}.example")
    owner = factory.SubFactory(UserFactory)
    billing_country = "US"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return accounts.account_create(actor=kwargs["owner"], **kwargs)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """A deal opened through the service (stage history and events written)."""

    class Meta:
        model = "opportunities.Opportunity"

    name = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.SubFactory(UserFactory)
    account = factory.LazyAttribute(lambda o: AccountFactory(owner=o.owner))
    amount = 1000
    stage = "discovery"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return deals.opportunity_create(actor=kwargs["owner"], **kwargs)
