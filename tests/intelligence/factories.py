"""Deals, leads and their history for intelligence tests, made with the ORM at chosen past times."""

from datetime import timedelta
from decimal import Decimal

import factory
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from opportunities.models import Account, Contact, Opportunity, StageHistory


def in_days(n: int):
    return (timezone.now() + timedelta(days=n)).date()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Intel Account {n}")
    industry = "Software"
    employee_count = 250


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    last_name = factory.Sequence(lambda n: f"Buyer{n}")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Intel deal {n}")
    account = factory.SubFactory(AccountFactory)
    stage_id = "proposal"
    amount = Decimal("25000")
    expected_close_date = factory.LazyFunction(lambda: in_days(30))
    source = "web"
    next_step = "Send the proposal"


def days_ago(n: float):
    return timezone.now() - timedelta(days=n)


def move(opp, frm: str, to: str, when) -> None:
    StageHistory.objects.create(opportunity=opp, from_stage=frm, to_stage=to, changed_at=when)


def push_close_date(opp, old, new, when) -> None:
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Opportunity), object_pk=str(opp.pk), object_id=opp.pk,
        object_repr=str(opp), action=LogEntry.Action.UPDATE,
        changes={"expected_close_date": [str(old), str(new)]}, timestamp=when,
    )


def log_activity(actor, *, when, type="call", opportunity=None, lead=None, contact=None):
    """An activity that happened (and was logged) at `when`, through the activities service."""
    from activities.services import activity_log

    extra = {"scheduled_at": when} if type in ("meeting", "demo") else {}
    return activity_log(
        actor=actor, type=type, subject=f"{type} at {when:%Y-%m-%d}", opportunity_id=getattr(opportunity, "pk", None),
        lead_id=getattr(lead, "pk", None), contact_id=getattr(contact, "pk", None), completed_at=when,
        created_at=when, **extra,
    )
