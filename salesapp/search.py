"""The search backend switch: one call, `search_filter(queryset, text)`, whichever engine is configured.

- Database (default): `icontains` over the registered fields on SQLite; on
  PostgreSQL a full-text match (`SearchVector` @@ `websearch` `SearchQuery`,
  config "simple") or trigram similarity on the fuzzy fields (`%` operator,
  served by GIN `gin_trgm_ops` indexes that the owning app's migration
  creates), plus `ILIKE '%text%'` on the exact fields (emails, phones),
  served by trigram indexes too.
- Elasticsearch, when `settings.ELASTICSEARCH_URL` is set: the registered
  django-elasticsearch-dsl document (imported lazily by dotted path) returns
  matching ids, which narrow the queryset. A configured Elasticsearch that is
  down raises: it is reported, never silently replaced by the database.

Search only narrows a queryset that already went through `restrict()`, so it
never widens what a user may see. Rare words on PostgreSQL, like every
Elasticsearch search, answer at most ES_MAX_HITS (1,000) matches. Apps register their models in `ready()`:

    register_searchable(Lead, fields=["first_name", "last_name", "email", "company"],
                        fuzzy_fields=["company", "last_name"], exact_fields=["email", "phone"],
                        document="leads.documents.LeadDocument")
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from importlib import import_module
from operator import or_

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import CharField, Lookup, Model, Q, QuerySet, TextField

ES_MAX_HITS = 1000


@dataclass(frozen=True)
class Searchable:
    """How one model is searched."""

    fields: tuple[str, ...]
    fuzzy_fields: tuple[str, ...] = ()
    exact_fields: tuple[str, ...] = ()
    document: str = ""  # dotted path of the django-elasticsearch-dsl Document
    config: str = "simple"


_registry: dict[type[Model], Searchable] = {}


def register_searchable(model: type[Model], *, fields, fuzzy_fields=(), exact_fields=(), document: str = "",
                        config: str = "simple") -> None:
    _registry[model] = Searchable(tuple(fields), tuple(fuzzy_fields), tuple(exact_fields), document, config)


def searchable(model: type[Model]) -> Searchable:
    try:
        return _registry[model]
    except KeyError:
        raise LookupError(f"{model.__name__} is not registered with salesapp.search") from None


class TrigramSimilar(Lookup):
    """`field__trgm_similar=text`: PostgreSQL pg_trgm's `%` operator (index-served by gin_trgm_ops)."""

    lookup_name = "trgm_similar"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} %% {rhs}", [*lhs_params, *rhs_params]


class ILike(Lookup):
    """`field__ilike_contains=text`: PostgreSQL `ILIKE '%text%'`, which a gin_trgm_ops index serves
    (Django's icontains compares UPPER() of the column, which that index cannot serve)."""

    lookup_name = "ilike_contains"

    def get_db_prep_lookup(self, value, connection):
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "%s", [f"%{escaped}%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


for _lookup in (TrigramSimilar, ILike):
    CharField.register_lookup(_lookup)
    TextField.register_lookup(_lookup)


def backend_name() -> str:
    if settings.ELASTICSEARCH_URL:
        return "elasticsearch"
    return "postgresql" if connection.vendor == "postgresql" else "database"


def search_vector(spec: Searchable):
    """The full-text expression; the GIN index must be built from this same expression."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector(*spec.fields, config=spec.config)


def search_filter(queryset: QuerySet, text: str) -> QuerySet:
    """Narrow `queryset` to records matching `text` with the configured backend."""
    text = (text or "").strip()
    if not text:
        return queryset
    spec = searchable(queryset.model)
    name = backend_name()
    if name == "elasticsearch":
        return queryset.filter(pk__in=elasticsearch_ids(spec, text))
    if name == "postgresql":
        return postgres_filter(queryset, spec, text)
    return queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": text}) for f in _all_fields(spec))))


def _all_fields(spec: Searchable) -> list[str]:
    return list(dict.fromkeys([*spec.fields, *spec.exact_fields]))


WALK_TIMEOUT_MS = 250
PROBE_ROWS = 51  # one API page and the next-page check


def _with_settings(settings_: dict[str, str], fn):
    """Run `fn` with transaction-local planner settings, restoring them afterwards.

    A savepoint undoes them if `fn` fails (e.g. hits its statement timeout).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        previous = {}
        for key, value in settings_.items():
            cursor.execute("SELECT current_setting(%s), set_config(%s, %s, true)", [key, key, value])
            previous[key] = cursor.fetchone()[0]
        result = fn()
        for key, value in previous.items():
            cursor.execute("SELECT set_config(%s, %s, true)", [key, value])
        return result


def postgres_filter(queryset: QuerySet, spec: Searchable, text: str) -> QuerySet:
    """`queryset` narrowed to the matches of `text`, with a plan that suits how common the words are.

    Common words are found fastest by walking the primary key newest-first and
    testing each row (the lazy filter returned as is); rare words by the GIN
    indexes (bitmap scans), where that walk would read the whole table. A probe
    walk for one page gets WALK_TIMEOUT_MS; when it runs out, the words are
    rare, and the index plan fetches the ids (at most ES_MAX_HITS) instead.
    """
    matches = queryset.filter(_postgres_q(spec, text))
    probe = matches.order_by("-pk").values_list("pk", flat=True)[:PROBE_ROWS]
    try:
        _with_settings({"statement_timeout": f"{WALK_TIMEOUT_MS}ms"}, lambda: list(probe))
        return matches
    except OperationalError:
        pass  # the statement timeout: the words are rare
    bitmap = matches.order_by().values_list("pk", flat=True)[:ES_MAX_HITS]
    ids = _with_settings({"enable_seqscan": "off", "enable_indexscan": "off"}, lambda: list(bitmap))
    return queryset.filter(pk__in=ids)


def _postgres_q(spec: Searchable, text: str) -> Q:
    from django.contrib.postgres.search import SearchQuery
    from django.db.models import BooleanField
    from django.db.models.expressions import CombinedExpression

    query = SearchQuery(text, config=spec.config, search_type="websearch")
    q = Q(CombinedExpression(search_vector(spec), "@@", query, output_field=BooleanField()))
    for f in spec.fuzzy_fields:
        q |= Q(**{f"{f}__trgm_similar": text})
    for f in spec.exact_fields:
        q |= Q(**{f"{f}__ilike_contains": text})
    return q


def elasticsearch_query(spec: Searchable, text: str):
    """The Elasticsearch search for `text`: every registered field, typo-tolerant, all words required."""
    document = load_document(spec)
    return document.search().query(
        "multi_match", query=text, fields=list(_all_fields(spec)), fuzziness="AUTO", operator="and"
    ).source(False)[:ES_MAX_HITS]


def elasticsearch_ids(spec: Searchable, text: str) -> list:
    """Ids of the documents matching `text` (at most ES_MAX_HITS); a server that is down raises."""
    return [hit.meta.id for hit in elasticsearch_query(spec, text).execute()]


def load_document(spec: Searchable):
    if not spec.document:
        raise LookupError("no Elasticsearch document registered for this model")
    module, _, name = spec.document.rpartition(".")
    return getattr(import_module(module), name)
