import factory

from salesapp import services


class UserFactory(factory.django.DjangoModelFactory):
    """A user created through the service, so the role group is set."""

    class Meta:
        model = "salesapp.User"
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@test.example")
    password = "test-pass-123"
    role = "sales_rep"
    manager = None
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        existing = model_class.objects.filter(email=kwargs["email"]).first()
        return existing or services.user_create(**kwargs)


class PicklistValueFactory(factory.django.DjangoModelFactory):
    """An entry of an admin-managed list (the migrations add the defaults; a flushed test database has none)."""

    class Meta:
        model = "salesapp.PicklistValue"
        django_get_or_create = ("kind", "value")

    kind = "industry"
    value = "technology"
    label = factory.LazyAttribute(lambda o: o.value.capitalize())
