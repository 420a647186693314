import factory

from territories.models import Territory, TerritoryModel


class TerritoryModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TerritoryModel

    name = factory.Sequence(lambda n: f"Plan {n}")
    state = TerritoryModel.State.PLANNING


class TerritoryFactory(factory.django.DjangoModelFactory):
    """A territory in the active model (rows straight to the table; use services in behaviour tests)."""

    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Territory {n}")
    model = factory.LazyFunction(lambda: TerritoryModel.objects.get(state="active"))
