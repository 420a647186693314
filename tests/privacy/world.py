"""A person known to the system in every store, and the means to look for them everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from activities import services as activity_services
from activities.store import get_store
from leads import services as lead_services
from leads.models import Lead
from opportunities.models import Opportunity
from salesapp.models import DataAccess

EMAIL = "zeb.quix@person.example"
FIRST, LAST = "Zebulon", "Quixwhistle"
PHONE = "+1 415 555 0199"
TRACES = (EMAIL, "zeb.quix", FIRST, LAST, "4155550199")


@dataclass
class Person:
    lead: Lead
    deal: Opportunity
    bystander: Lead
    activities: list[int]


def person_with_history(*, rep, manager) -> Person:
    """Zebulon's lead, worked and converted into a deal (with its contact), called and met, searched for and
    opened; and a bystander lead that must not change."""
    lead = lead_services.lead_create(actor=rep, first_name=FIRST, last_name=LAST, email=EMAIL, phone=PHONE,
                                     company="Acme Widgets", country="US")
    lead_services.lead_update(actor=rep, lead=lead, title="Head of Buying")
    lead_services.lead_transition(actor=rep, lead=lead, to_status="contacted")
    lead_services.lead_qualify(actor=rep, lead=lead)
    lead = lead_services.lead_convert(actor=rep, lead=lead, amount=5000,
                                      expected_close_date=timezone.localdate() + dt.timedelta(days=3))
    bystander = lead_services.lead_create(actor=rep, first_name="Ada", last_name="Other", email="ada@other.example",
                                          company="Other Co")
    call = activity_services.activity_log(actor=rep, type="call", subject=f"Call with {FIRST} {LAST}",
                                          lead_id=lead.pk, participants=[EMAIL], description=f"Rang {PHONE}")
    meeting = activity_services.activity_log(
        actor=rep, type="call", subject="Pricing call", opportunity_id=lead.converted_opportunity_id,
        description=f"{FIRST} asked for a discount", participants=[EMAIL, "rep@test.example"])
    DataAccess.objects.create(user=manager, kind="search", model="leads.lead", object_ids=[bystander.pk, lead.pk],
                              filters={"q": LAST}, path="/leads/")
    DataAccess.objects.create(user=manager, kind="detail", model="leads.lead", object_ids=[lead.pk], path="/leads/x/")
    return Person(lead=lead, deal=lead.converted_opportunity, bystander=bystander,
                  activities=[call["id"], meeting["id"]])


def database_traces() -> list[str]:
    """Every row of every table (a dump, read through SQL) that holds one of the person's traces."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  (table names come from the database itself)
            for row in cursor.fetchall():
                text = " ".join(_text(v) for v in row).casefold()
                found += [f"{table}: {t}" for t in TRACES if t.casefold() in text]
    return found


def _text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def store_traces() -> list[str]:
    """Every activity in the store (either backend) that holds one of the person's traces."""
    docs = get_store().find(("all",), limit=100_000)
    return [f"activity {d['id']}: {t}" for d in docs for t in TRACES if t.casefold() in str(d).casefold()]
