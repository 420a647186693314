"""Likely duplicates: same email, same phone, or the same person at the same company.

Case, accents, punctuation and company suffixes (Inc, Ltd, GmbH...) do not count
(see salesapp.normalize). Emails and phones are encrypted at rest, so they are compared
through their blind indexes (salesapp.crypto.blind_index), which normalise first.
Merged leads are never offered as duplicates.
"""

from __future__ import annotations

import unicodedata

from django.db.models import Q

from leads.models import Lead
from salesapp.access import VIEW
from salesapp.crypto import blind_index
from salesapp.normalize import normalize_company, normalize_email, normalize_phone


def fold_name(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "").casefold()
    return "".join(ch for ch in value if ch.isalnum())


def normalized(data: dict) -> dict:
    """The match keys of a lead's data (a dict or a Lead): email and phone as blind indexes."""
    get = data.get if isinstance(data, dict) else lambda k, d="": getattr(data, k)
    return {
        "email": blind_index("email", get("email", "")),
        "phone": blind_index("phone", get("phone", "")),
        "phone_digits": normalize_phone(get("phone", "")).lstrip("+"),
        "company": normalize_company(get("company", "")),
        "name": fold_name(f"{get('first_name', '')}{get('last_name', '')}"),
    }


def leads_with_email(*emails: str):
    """Every lead with one of these emails (case and spaces do not count), merged-away ones included: the one
    lookup of leads by email (dedup, imports and their `lead_email` references, data subject requests). Emails
    are encrypted, so their blind indexes are compared. A system read."""
    keys = {blind_index("email", e) for e in emails} - {""}
    return Lead.objects.filter(email_blind_index__in=keys) if keys else Lead.objects.none()


def lead_ids_by_email(emails, *, user=None) -> dict[str, int]:
    """Leads by normalised email (the oldest unmerged one per email), among those `user` may see (None: all)."""
    emails = [e for e in emails if normalize_email(e)]
    by_key = {blind_index("email", e): normalize_email(e) for e in emails}
    qs = leads_with_email(*emails).filter(merged_into__isnull=True)
    if user is not None:
        qs = qs.restrict(user, VIEW)
    found: dict[str, int] = {}
    for pk, key in qs.order_by("id").values_list("id", "email_blind_index"):
        found.setdefault(by_key[key], pk)
    return found


def lead_find_by_email(email: str) -> Lead | None:
    """The lead that holds this email (the oldest unmerged one), or None."""
    return leads_with_email(email).filter(merged_into__isnull=True).order_by("id").first()


def find_duplicates(data, *, queryset=None, exclude_pk: int | None = None, limit: int = 10) -> list[tuple[Lead, list[str]]]:
    """Leads that are probably the same person as `data`, each with the reasons."""
    keys = normalized(data)
    q = Q(pk__in=[])
    if keys["email"]:
        q |= Q(email_blind_index=keys["email"])
    if keys["phone"] and len(keys["phone_digits"]) >= 6:
        q |= Q(phone_blind_index=keys["phone"])
    if keys["company"] and keys["name"]:
        q |= Q(normalized_company=keys["company"])
    qs = (queryset if queryset is not None else Lead.objects.all()).filter(q, merged_into__isnull=True)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    found = []
    for lead in qs.select_related("assigned_to").order_by("id")[: limit * 5]:
        reasons = []
        if keys["email"] and lead.email_blind_index == keys["email"]:
            reasons.append("same email")
        if keys["phone"] and lead.phone_blind_index == keys["phone"]:
            reasons.append("same phone")
        if keys["company"] and lead.normalized_company == keys["company"] and fold_name(
            f"{lead.first_name}{lead.last_name}"
        ) == keys["name"]:
            reasons.append("same person at the same company")
        if reasons:
            found.append((lead, reasons))
        if len(found) >= limit:
            break
    return found
