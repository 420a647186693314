"""What the activity store holds about people, on either backend (registered from ActivitiesConfig.ready).

A person's activities are those linked to their leads or contacts (which the leads and contacts
providers found before this one runs): erasure deletes them. Activities on the deals and accounts they
appear on stay, with the person's email, name and phone erased from their text and participants.
Retention deletes activities older than the policy's days.
"""

from __future__ import annotations

import datetime as dt

from activities import services
from activities.store import get_store
from salesapp.privacy import PersonalDataProvider, Subject, audit_redact, redact, register_personal_data
from salesapp.retention import RetentionTarget, register_retention_target

LABEL = "activities.activity"
MOST = 1_000_000  # more activities than any one person or deal has


def _own(subject: Subject) -> list[dict]:
    leads, contacts = sorted(subject.ids("leads.lead")), sorted(subject.ids("opportunities.contact"))
    if not (leads or contacts):
        return []
    return get_store().find(("or", [("in", "lead_id", leads), ("in", "contact_id", contacts)]),
                            order=(("occurred_at", 1), ("id", 1)), limit=MOST)


def _quoting(subject: Subject) -> list[int]:
    """Activities on the person's deals and accounts (not theirs) that quote them."""
    deals, accounts = (sorted(subject.related.get(label, ())) for label in
                       ("opportunities.opportunity", "opportunities.account"))
    if not (deals or accounts):
        return []
    docs = get_store().find(("or", [("in", "opportunity_id", deals), ("in", "account_id", accounts)]), limit=MOST)
    own = subject.ids(LABEL)
    return [d["id"] for d in docs if d["id"] not in own
            and any(redact(d[f], subject.terms) != d[f] for f in services.REDACTED_FIELDS)]


def _find(subject: Subject) -> None:
    subject.add(LABEL, [doc["id"] for doc in _own(subject)])
    subject.add(LABEL, _quoting(subject), related=True)


def _collect(subject: Subject) -> list[dict]:
    return _own(subject)


def _erase(subject: Subject, *, actor) -> int:
    deleted = services.activities_erase(actor=actor, activity_ids=sorted(subject.ids(LABEL)))
    services.activities_redact(actor=actor, activity_ids=sorted(subject.related.get(LABEL, ())), terms=subject.terms)
    return deleted


def _old_due(cutoff: dt.datetime) -> list[int]:
    return [doc["id"] for doc in get_store().find(("lt", "occurred_at", cutoff), limit=MOST)]


def _old_delete(ids: list[int]) -> int:
    """Delete these activities, and the values their audit entries kept."""
    deleted = services.activities_erase(actor=None, activity_ids=ids)
    audit_redact(Subject(email="", links={LABEL: set(ids)}))
    return deleted


def register() -> None:
    register_personal_data(PersonalDataProvider(
        key="activities", label="Activities", order=30, find=_find, collect=_collect, erase=_erase,
        audited={LABEL: None},
    ))
    register_retention_target(RetentionTarget(
        key="activities", label="Activities", action="deleted", due=_old_due, apply=_old_delete,
    ))
