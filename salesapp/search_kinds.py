"""What can be searched: the kinds of record apps register, their facets, and how a query reads.

Apps register each searchable model once in `AppConfig.ready()` with `register_search_kind(...)`:
the database fields the fallback searches, the facets people filter by, how a hit links to its
page, and the django-elasticsearch-dsl document that keeps it in Elasticsearch. The kernel
imports no app: everything it needs about a kind comes through this registration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.utils import timezone

from salesapp.models import User


@dataclass(frozen=True)
class Facet:
    """A value people narrow a search by, counted per value.

    `name` is the API parameter and the document field; `model_field` the ORM path the database
    engine groups and filters by; `labels` turns values into what people read (ids into names).
    """

    name: str
    model_field: str
    labels: Callable[[object, list], dict] | None = None  # (user, values) -> {value: label}


@dataclass(frozen=True)
class SearchKind:
    """One kind of record the search answers with.

    - `visible(user)`: the app's selector (the records the user may see, as its list shows them).
    - `fields` / `fuzzy_fields`: what the database engine matches (full text, trigram similarity);
      `field_queries`: the model fields behind `email:` and `company:` (substring).
    - `blind_fields`: encrypted values found by their exact value only, kind -> its blind index field
      ({"email": "email_blind_index"}): the whole text typed (or an `email:` query) is hashed by
      salesapp.crypto.blind_index and compared, since ciphertext can be neither searched nor sorted.
    - `document`: the django-elasticsearch-dsl Document; `access_fields` maps the access rule's
      fields to the document's ("pk" is always the document's `id`).
    - `url(pk)`: the record's page; `subtitle`: document fields shown under the name.
    """

    key: str
    label: str
    model: type[Model]
    visible: Callable[[object], QuerySet]
    fields: tuple[str, ...]
    url: Callable[[int], str]
    fuzzy_fields: tuple[str, ...] = ()
    blind_fields: dict[str, str] = field(default_factory=dict)
    field_queries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    facets: tuple[Facet, ...] = ()
    document: type | None = None
    access_fields: dict[str, str] = field(default_factory=dict)
    subtitle: tuple[str, ...] = ()
    config: str = "simple"

    def facet(self, name: str) -> Facet | None:
        return next((f for f in self.facets if f.name == name), None)

    def doc(self):
        if self.document is None:
            raise ImproperlyConfigured(f"search kind {self.key!r} has no Elasticsearch document")
        return self.document()

    def indexed(self) -> QuerySet:
        """The records that belong in the index (the document's queryset, with what it needs joined)."""
        return self.doc().get_queryset()


_kinds: dict[str, SearchKind] = {}


def register_search_kind(kind: SearchKind) -> None:
    """Make a model searchable (called once per model from AppConfig.ready)."""
    _kinds[kind.key] = kind


def search_kind(key: str) -> SearchKind:
    try:
        return _kinds[key]
    except KeyError:
        raise ImproperlyConfigured(f"no search kind {key!r} is registered") from None


def search_kinds() -> list[SearchKind]:
    return list(_kinds.values())


def kind_for_model(model: type[Model]) -> SearchKind:
    for kind in _kinds.values():
        if kind.model is model:
            return kind
    raise LookupError(f"{model.__name__} is not registered with salesapp.search_kinds")


def user_labels(user, ids: list) -> dict:
    """Owners by name (as lists show them), for the owner facet."""
    return {u.pk: str(u) for u in User.objects.filter(pk__in=ids).only("pk", "first_name", "last_name", "email")}


# --- the created period facet: the same buckets for every kind and engine --------------------------------

# (key, label, newer than N days ago, older than M days ago)
CREATED_PERIODS = (
    ("7d", "Last 7 days", 7, None),
    ("30d", "8 to 30 days ago", 30, 7),
    ("365d", "1 to 12 months ago", 365, 30),
    ("older", "Over a year ago", None, 365),
)
CREATED_LABELS = {key: label for key, label, _, _ in CREATED_PERIODS}


def created_ranges(now=None) -> dict[str, tuple]:
    """key -> (from, to) datetimes (either may be None): created_at >= from and < to."""
    now = now or timezone.now()
    return {key: (now - timedelta(days=newer) if newer else None, now - timedelta(days=older) if older else None)
            for key, _, newer, older in CREATED_PERIODS}


# --- the query people type ------------------------------------------------------------------------------

FIELD_QUERIES = ("email", "company")
_TOKEN = re.compile(r'(?P<field>\w+):(?:"(?P<fquoted>[^"]*)"|(?P<fvalue>\S+))|"(?P<phrase>[^"]*)"|(?P<word>\S+)')
_PHONE_LIKE = re.compile(r"^[\d\s()+\-./]+$")


@dataclass(frozen=True)
class ParsedQuery:
    """`katherine "langley research" email:kj@ company:nasa` read into its parts."""

    text: str
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()  # (field, value) of email: / company:

    @property
    def digits(self) -> str:
        """The digits of a phone-like query ("+1 (555) 010-2030"), if it is one with at least 4 digits."""
        plain = " ".join(self.words)
        if self.phrases or self.fields or not _PHONE_LIKE.match(plain or "x"):
            return ""
        digits = re.sub(r"\D", "", plain)
        return digits if len(digits) >= 4 else ""

    @property
    def free_text(self) -> str:
        """Words and phrases without the field queries (what the database engine matches everywhere)."""
        return " ".join([*self.words, *(f'"{p}"' for p in self.phrases)])

    @property
    def terms(self) -> list[str]:
        """Every word typed, for highlighting."""
        found = [*self.words]
        for text in (*self.phrases, *(value for _, value in self.fields)):
            found.extend(text.split())
        return [t for t in found if t]

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases or self.fields)


def parse_query(text: str) -> ParsedQuery:
    """Read a search box's text: `email:` and `company:` field queries, "quoted phrases", and words."""
    words, phrases, fields = [], [], []
    for match in _TOKEN.finditer((text or "").strip()):
        name = (match.group("field") or "").lower()
        if name in FIELD_QUERIES:
            value = (match.group("fquoted") if match.group("fquoted") is not None else match.group("fvalue")).strip()
            if value:
                fields.append((name, value))
        elif match.group("field"):
            words.append(match.group(0))  # "ratio:3" is a word, not a field query
        elif match.group("phrase") is not None:
            if match.group("phrase").strip():
                phrases.append(match.group("phrase").strip())
        else:
            words.append(match.group("word"))
    return ParsedQuery(text=(text or "").strip(), words=tuple(words), phrases=tuple(phrases), fields=tuple(fields))
