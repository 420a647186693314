"""What opportunities holds about people: contacts, and the deals they appear on (registered from ready()).

A person's contacts are found by their email through the contacts' one lookup (`contacts_with_email`),
erased by `contact_erase` and opted out through `contact_privacy_update`. Deals stay whole: the person's
contact stays linked to them, anonymised, so amounts and forecasts do not move; the archive lists them.
"""

from __future__ import annotations

from django.forms.models import model_to_dict

from opportunities.models import Contact, Opportunity
from opportunities.services import contacts
from salesapp.privacy import PersonalDataProvider, Subject, each, register_personal_data

LABEL = "opportunities.contact"
DEAL = "opportunities.opportunity"
DEAL_COLUMNS = ("id", "name", "stage_id", "amount", "expected_close_date", "actual_close_date",
                "account_id", "account__name", "created_at")


def _find(subject: Subject) -> None:
    found = contacts.contacts_with_email(subject.email) | Contact.objects.filter(pk__in=subject.ids(LABEL))
    for contact in found.distinct():
        subject.add(LABEL, [contact.pk])
        subject.add("opportunities.account", [contact.account_id], related=True)
        subject.name_terms(contact.email, contact.phone, f"{contact.first_name} {contact.last_name}".strip(),
                           contact.first_name, contact.last_name)
    deals = Opportunity.objects.filter(contacts__in=subject.ids(LABEL)).values_list("pk", flat=True)
    subject.add(DEAL, deals, related=True)


def _collect(subject: Subject) -> dict:
    found = Contact.objects.filter(pk__in=subject.ids(LABEL)).select_related("account").order_by("id")
    deals = Opportunity.objects.filter(pk__in=subject.related.get(DEAL, ())).order_by("id")
    return {
        "contacts": [model_to_dict(c, exclude=["email_blind_index", "phone_blind_index"]) | {
            "account": c.account.name, "created_at": c.created_at, "updated_at": c.updated_at,
            "erased_at": c.erased_at} for c in found],
        "deals": list(deals.values(*DEAL_COLUMNS)),
    }


def _erase(subject: Subject, *, actor) -> int:
    return each(Contact.objects.filter(pk__in=subject.ids(LABEL)),
                lambda contact: contacts.contact_erase(actor=actor, contact=contact))


def _opt_out(subject: Subject, *, actor) -> int:
    return each(Contact.objects.filter(pk__in=subject.ids(LABEL), do_not_sell=False),
                lambda contact: contacts.contact_privacy_update(actor=actor, contact=contact, do_not_sell=True))


def _email_of(pk: int) -> str | None:
    return Contact.objects.filter(pk=pk).values_list("email", flat=True).first()


def register() -> None:
    register_personal_data(PersonalDataProvider(
        key="contacts", label="Contacts and their deals", order=20, find=_find, collect=_collect, erase=_erase,
        opt_out=_opt_out, audited={LABEL: contacts.PERSONAL_FIELDS}, records={"contact": _email_of},
    ))
