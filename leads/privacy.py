"""What leads hold about people, for data subject requests and retention (registered from LeadsConfig.ready).

A person's leads are found by their email through dedup's one lookup (`leads_with_email`); they are
erased by `lead_erase` and opted out through `lead_privacy_update`, the leads app's own services.
Unconverted leads without activity for the policy's days are anonymised the same way.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.forms.models import model_to_dict

from leads import services
from leads.dedup import leads_with_email
from leads.models import Lead, LeadHistory
from salesapp.privacy import (
    PersonalDataProvider,
    Subject,
    audit_redact,
    data_access_redact,
    each,
    register_personal_data,
)
from salesapp.retention import RetentionTarget, register_retention_target

LABEL = "leads.lead"
# Internal bookkeeping, not about the person.
NOT_EXPORTED = ("email_blind_index", "phone_blind_index", "normalized_company", "score_factors")


def _note(subject: Subject, lead: Lead) -> None:
    subject.add(LABEL, [lead.pk])
    subject.name_terms(lead.email, lead.phone, f"{lead.first_name} {lead.last_name}".strip(), lead.first_name,
                       lead.last_name)


def _find(subject: Subject) -> None:
    for lead in leads_with_email(subject.email):
        _note(subject, lead)
        if lead.converted_contact_id:
            subject.add("opportunities.contact", [lead.converted_contact_id])
        if lead.converted_opportunity_id:
            subject.add("opportunities.opportunity", [lead.converted_opportunity_id], related=True)
        if lead.converted_account_id:
            subject.add("opportunities.account", [lead.converted_account_id], related=True)


def _collect(subject: Subject) -> dict:
    leads = Lead.objects.filter(pk__in=subject.ids(LABEL)).order_by("id")
    history = LeadHistory.objects.filter(lead__in=leads).order_by("created_at", "id")
    return {
        "leads": [{k: v for k, v in model_to_dict(lead).items() if k not in NOT_EXPORTED}
                  | {"created_at": lead.created_at, "updated_at": lead.updated_at, "erased_at": lead.erased_at}
                  for lead in leads],
        "history": list(history.values("lead_id", "kind", "from_value", "to_value", "detail", "created_at")),
    }


def _erase(subject: Subject, *, actor) -> int:
    return each(Lead.objects.filter(pk__in=subject.ids(LABEL)), lambda lead: services.lead_erase(actor=actor, lead=lead))


def _opt_out(subject: Subject, *, actor) -> int:
    return each(Lead.objects.filter(pk__in=subject.ids(LABEL), do_not_sell=False),
                lambda lead: services.lead_privacy_update(actor=actor, lead=lead, do_not_sell=True))


def _email_of(pk: int) -> str | None:
    return Lead.objects.filter(pk=pk).values_list("email", flat=True).first()


def _stale_leads_due(cutoff: dt.datetime):
    """Unconverted leads not erased yet whose last activity (or, without any, creation) is before `cutoff`."""
    idle = Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True, created_at__lt=cutoff)
    return (Lead.objects.exclude(status=Lead.Status.CONVERTED).filter(idle, erased_at__isnull=True)
            .values_list("pk", flat=True).iterator())


def _stale_leads_anonymise(ids: list[int]) -> int:
    """Anonymise these leads and erase what their audit and data-access entries quote of them."""
    subject = Subject(email="")
    leads = list(Lead.objects.filter(pk__in=ids, erased_at__isnull=True).order_by("id"))
    for lead in leads:
        _note(subject, lead)
        services.lead_erase(actor=None, lead=lead)
    audit_redact(subject)
    data_access_redact(subject)
    return len(leads)


def register() -> None:
    register_personal_data(PersonalDataProvider(
        key="leads", label="Leads", order=10, find=_find, collect=_collect, erase=_erase, opt_out=_opt_out,
        audited={LABEL: services.PERSONAL_FIELDS}, records={"lead": _email_of},
    ))
    register_retention_target(RetentionTarget(
        key="unconverted_leads", label="Unconverted leads without activity", action="anonymised",
        due=_stale_leads_due, apply=_stale_leads_anonymise,
    ))
