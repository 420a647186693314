"""Writes for contacts: create, update, delete; the duplicate finder used before creating one.

Each write publishes `contact.created` / `contact.updated` (naming the fields that changed,
only when something did) / `contact.deleted`; django-auditlog records the rows.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opportunities.models import Account, Contact
from salesapp.assignment import assignee_check
from salesapp.changes import apply_changes
from salesapp.crypto import blind_index
from salesapp.events import publish
from salesapp.guards import require_permission
from salesapp.normalize import normalize_email
from salesapp.privacy import consent_check, tombstone_check


def contact_find_match(*, account: Account | None = None, email: str = "", phone: str = "") -> Contact | None:
    """A likely duplicate contact: same email anywhere, or same phone at the same account (both are encrypted, so
    their blind indexes are compared)."""
    email = normalize_email(email)
    if email:
        found = contacts_by_email([email]).get(email)
        if found:
            return found
    phone_key = blind_index("phone", phone)
    if phone_key and account is not None:
        return Contact.objects.filter(account=account, phone_blind_index=phone_key).order_by("id").first()
    return None


def contacts_with_email(*emails: str, queryset=None):
    """Every contact with one of these emails (case and spaces do not count), among `queryset` (default: all):
    the one lookup of contacts by email (matching, imports and their `contact_email` references, data subject
    requests), by the emails' blind indexes."""
    keys = {blind_index("email", e) for e in emails} - {""}
    qs = queryset if queryset is not None else Contact.objects.all()
    return qs.filter(email_blind_index__in=keys) if keys else qs.none()


def contacts_by_email(emails, *, queryset=None) -> dict[str, Contact]:
    """Contacts by normalised email (the oldest per email), among `queryset` (default: all)."""
    emails = [e for e in emails if normalize_email(e)]
    by_key = {blind_index("email", e): normalize_email(e) for e in emails}
    found: dict[str, Contact] = {}
    for contact in contacts_with_email(*emails, queryset=queryset).order_by("id"):
        found.setdefault(by_key[contact.email_blind_index], contact)
    return found


def _blind_indexes(contact: Contact) -> None:
    contact.email_blind_index = blind_index("email", contact.email)
    contact.phone_blind_index = blind_index("phone", contact.phone)


def _payload(contact: Contact, **extra) -> dict:
    return {"contact_id": contact.pk, "account_id": contact.account_id, "owner_id": contact.owner_id, **extra}


@transaction.atomic
def contact_create(
    *,
    actor,
    account: Account,
    first_name: str = "",
    last_name: str,
    email: str = "",
    phone: str = "",
    title: str = "",
    buying_role: str = "",
    owner=None,
    external_id: str = "",
    created_at=None,
) -> Contact:
    """Create a contact at an account, owned by `owner` (one the actor may assign to), else the account's owner."""
    require_permission(actor, "opportunity:write")
    errors = {}
    if not (last_name or "").strip():
        errors["last_name"] = ["A contact needs a last name."]
    if buying_role and buying_role not in Contact.BuyingRole.values:
        errors["buying_role"] = [f"Unknown buying role {buying_role!r}."]
    if errors:
        raise ValidationError(errors)
    if owner is not None:
        assignee_check(actor=actor, assignee=owner, field="owner_id")
    tombstone_check(email)
    contact = Contact(
        account=account,
        first_name=(first_name or "").strip(),
        last_name=last_name.strip(),
        email=normalize_email(email),
        phone=(phone or "").strip(),
        title=title or "",
        buying_role=buying_role or "",
        owner=owner or account.owner or actor,
        external_id=external_id,
    )
    if created_at is not None:
        contact.created_at = created_at
    _blind_indexes(contact)
    contact.full_clean(exclude=["account", "owner"])
    contact.save()
    publish("contact.created", _payload(contact), actor=actor)
    return contact


UPDATABLE_FIELDS = {"account", "first_name", "last_name", "email", "phone", "title", "buying_role", "owner"}


@transaction.atomic
def contact_update(*, actor, contact: Contact, **fields) -> Contact:
    """Change a contact; a new owner must be one the actor may assign to.

    Publishes `contact.updated` naming the fields whose values changed; an update that
    changes nothing writes and publishes nothing.
    """
    require_permission(actor, "opportunity:write")
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    if fields.get("owner") is not None and fields["owner"].pk != contact.owner_id:
        assignee_check(actor=actor, assignee=fields["owner"], field="owner_id")
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
        if fields["email"] != contact.email:
            tombstone_check(fields["email"])
    changed = apply_changes(contact, fields)
    if not changed:
        return contact
    _blind_indexes(contact)
    contact.full_clean(exclude=["account", "owner"])
    contact.save()
    publish("contact.updated", _payload(contact, fields=changed), actor=actor)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    """Delete a contact."""
    require_permission(actor, "opportunity:write")
    payload = _payload(contact)
    contact.delete()
    publish("contact.deleted", payload, actor=actor)


# What identifies the person on a contact: blanked when the contact is erased.
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "title", "consent_source")
ERASED_NAME = "(erased)"


@transaction.atomic
def contact_erase(*, actor, contact: Contact) -> Contact:
    """Anonymise a contact for good at the person's request: names, email, phone and title blanked (the last
    name reads "(erased)"); the row stays on its account and its deals, so deals and their figures stay whole.
    Publishes contact.updated naming the fields (the search index rewrites the contact from it)."""
    require_permission(actor, "privacy:manage")
    if contact.erased_at:
        return contact
    blank = {name: "" for name in PERSONAL_FIELDS}
    changed = apply_changes(contact, {**blank, "last_name": ERASED_NAME, "erased_at": timezone.now()})
    _blind_indexes(contact)
    contact.save()
    publish("contact.updated", _payload(contact, fields=changed), actor=actor)
    return contact


@transaction.atomic
def contact_privacy_update(*, actor, contact: Contact, **fields) -> Contact:
    """Record a contact's lawful basis, consent (source, time, withdrawal) or CCPA opt-out (`do_not_sell`).

    Consent needs its source and time together; a withdrawal needs consent. Publishes contact.updated.
    """
    require_permission(actor, "opportunity:write")
    consent_check(contact, fields)
    changed = apply_changes(contact, fields)
    if changed:
        contact.save()
        publish("contact.updated", _payload(contact, fields=changed), actor=actor)
    return contact
