"""Likely duplicates: same normalised email, same normalised phone, or the same person at the same company.

Case, accents, punctuation and company suffixes (Inc, Ltd, GmbH...) do not count
(see salesapp.normalize). Merged leads are never offered as duplicates.
"""

from __future__ import annotations

import unicodedata

from django.db.models import Q

from leads.models import Lead
from salesapp.access import VIEW
from salesapp.normalize import normalize_company, normalize_email, normalize_phone


def fold_name(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "").casefold()
    return "".join(ch for ch in value if ch.isalnum())


def normalized(data: dict) -> dict:
    """The match keys of a lead's data (a dict or a Lead)."""
    get = data.get if isinstance(data, dict) else lambda k, d="": getattr(data, k)
    return {
        "email": normalize_email(get("email", "")),
        "phone": normalize_phone(get("phone", "")),
        "company": normalize_company(get("company", "")),
        "name": fold_name(f"{get('first_name', '')}{get('last_name', '')}"),
    }


def leads_with_email(*emails: str):
    """Every lead with one of these emails (normalised), merged-away ones included: the one lookup of leads by
    email (dedup, imports and their `lead_email` references, data subject requests). A system read."""
    wanted = {normalize_email(e) for e in emails} - {""}
    return Lead.objects.filter(normalized_email__in=wanted) if wanted else Lead.objects.none()


def lead_ids_by_email(emails, *, user=None) -> dict[str, int]:
    """Leads by normalised email (the oldest unmerged one per email), among those `user` may see (None: all)."""
    qs = leads_with_email(*emails).filter(merged_into__isnull=True)
    if user is not None:
        qs = qs.restrict(user, VIEW)
    found: dict[str, int] = {}
    for pk, email in qs.order_by("id").values_list("id", "normalized_email"):
        found.setdefault(email, pk)
    return found


def find_duplicates(data, *, queryset=None, exclude_pk: int | None = None, limit: int = 10) -> list[tuple[Lead, list[str]]]:
    """Leads that are probably the same person as `data`, each with the reasons."""
    keys = normalized(data)
    q = Q(pk__in=[])
    if keys["email"]:
        q |= Q(pk__in=leads_with_email(keys["email"]).values("pk"))
    if keys["phone"] and len(keys["phone"].lstrip("+")) >= 6:
        q |= Q(normalized_phone=keys["phone"])
    if keys["company"] and keys["name"]:
        q |= Q(normalized_company=keys["company"])
    qs = (queryset if queryset is not None else Lead.objects.all()).filter(q, merged_into__isnull=True)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    found = []
    for lead in qs.select_related("assigned_to").order_by("id")[: limit * 5]:
        reasons = []
        if keys["email"] and lead.normalized_email == keys["email"]:
            reasons.append("same email")
        if keys["phone"] and lead.normalized_phone == keys["phone"]:
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
