"""Quota test helpers: users in a team, deals won through the opportunities service, quotas through ours."""

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

from django.test import TestCase

from opportunities.models import LossReason
from opportunities.services import deals as opportunity_services
from quotas import services
from tests.opportunities.factories import OpportunityFactory
from tests.salesapp.factories import UserFactory


@contextmanager
def committed():
    """Run what the block leaves for after commit (event receivers, consumers) as a real commit would.

    Tests run inside one transaction that is rolled back, so nothing commits by itself.
    """
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def team(manager, size: int = 3) -> list:
    """`size` reps reporting to `manager`."""
    return [
        UserFactory(role="sales_rep", manager=manager, email=f"team{manager.pk}.rep{i}@test.example",
                    first_name=f"Rep{i}", last_name="Team")
        for i in range(1, size + 1)
    ]


def deal_won(owner, amount, close_date: dt.date, *, territory=None, actor=None):
    """An opportunity opened and closed won through the opportunities service (events flow).

    A `territory` is filed by `actor`, who must be able to see it (an admin: the owner need not hold it).
    """
    opp = OpportunityFactory(owner=owner, amount=Decimal(str(amount)))
    with committed():
        if territory is not None:
            opportunity_services.opportunity_update(actor=actor, opportunity=opp, territory=territory)
        opportunity_services.opportunity_close(actor=actor or owner, opportunity=opp, outcome="won",
                                               close_date=close_date)
    return opp


def deal_lost(owner, amount, close_date: dt.date):
    opp = OpportunityFactory(owner=owner, amount=Decimal(str(amount)))
    reason = LossReason.objects.get_or_create(name="Price")[0]
    with committed():
        opportunity_services.opportunity_close(actor=owner, opportunity=opp, outcome="lost", reason=reason,
                                               close_date=close_date)
    return opp


def deal_reopen(opp, actor):
    with committed():
        return opportunity_services.opportunity_reopen(actor=actor, opportunity=opp)


def quota(actor, *, amount, period="Q1_2026", quota_type="revenue", status="published", **holder):
    with committed():
        return services.quota_create(actor=actor, period=period, quota_amount=Decimal(str(amount)),
                                     quota_type=quota_type, status=status, **holder)
