"""Normalisers shared by dedup in leads and accounts/contacts.

Two records are "the same" for dedup when their normalised values are equal:
case, accents, punctuation, whitespace and legal-form suffixes do not count.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Legal-form suffixes that do not distinguish one company from another.
# Multi-word forms are written without punctuation (normalisation strips it first).
COMPANY_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp", "ltd", "limited",
        "plc", "gmbh", "ag", "kg", "ohg", "ug", "sa", "sas", "sarl", "sl", "srl", "spa", "bv", "nv", "oy",
        "ab", "as", "asa", "aps", "pty", "pte", "kk", "se", "sp", "zoo", "group", "holding", "holdings",
    }
)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"\d+")


def _fold(value: str) -> str:
    """Lower-case and strip accents (é -> e, ß -> ss)."""
    value = unicodedata.normalize("NFKD", value or "").casefold()
    return "".join(ch for ch in value if not unicodedata.combining(ch))


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased email; empty string for empty input."""
    return (email or "").strip().lower()


def normalize_phone(phone: str) -> str:
    """Digits only, keeping a leading '+' (so '+1 (555) 010-0000' -> '+15550100000')."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    # Drop an extension ("x123", "ext. 123") so it does not glue onto the number.
    phone = re.split(r"(?i)\s*(?:ext\.?|x)\s*\d+\s*$", phone)[0]
    digits = "".join(_DIGITS.findall(phone))
    if not digits:
        return ""
    if phone.startswith("+"):
        return "+" + digits
    if phone.startswith("00") and len(digits) > 2:
        return "+" + digits[2:]
    return digits


def normalize_company(name: str) -> str:
    """Company name folded for matching: 'Acme, Inc.' == 'ACME inc' == 'Acmé GmbH' -> 'acme'."""
    folded = _fold(name).replace("&", " and ")
    words = [w for w in _NON_ALNUM.split(folded) if w]
    # Strip trailing legal forms ("Acme Holdings Ltd" -> "acme"), but never to nothing.
    while len(words) > 1 and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    # A leading article is noise too ("The Acme Company").
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def domain_of(url_or_email: str) -> str:
    """The bare host of a URL or email address: 'https://www.Acme.com/x' and 'jo@acme.com' -> 'acme.com'."""
    value = (url_or_email or "").strip().lower()
    if not value:
        return ""
    if "@" in value and "://" not in value:
        host = value.rsplit("@", 1)[1]
    else:
        if "://" not in value:
            value = "//" + value
        host = urlsplit(value).hostname or ""
    host = host.strip(".")
    if host.startswith("www."):
        host = host[4:]
    return host
