"""The search backend switch: one call, `search_filter(queryset, text)`, whichever engine is configured.

- Database (default): `icontains` over the registered fields on SQLite; on
  PostgreSQL a full-text match (`SearchVector` @@ `websearch` `SearchQuery`,
  config "simple") or trigram similarity on the fuzzy fields (`%` operator,
  served by GIN `gin_trgm_ops` indexes that the owning app's migration
  creates), plus `icontains` on the exact fields (emails, phones).
- Elasticsearch, when `settings.ELASTICSEARCH_URL` is set: the registered
  django-elasticsearch-dsl document (imported lazily by dotted path) returns
  matching ids, which narrow the queryset. A configured Elasticsearch that is
  down raises: it is reported, never silently replaced by the database.

Search only narrows a queryset that already went through `restrict()`, so it
never widens what a user may see. Apps register their models in `ready()`:

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
from django.db import connection
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


CharField.register_lookup(TrigramSimilar)
TextField.register_lookup(TrigramSimilar)


def backend_name() -> str:
    if getattr(settings, "ELASTICSEARCH_URL", ""):
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
        return queryset.filter(_postgres_q(spec, text))
    return queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": text}) for f in _all_fields(spec))))


def _all_fields(spec: Searchable) -> list[str]:
    return list(dict.fromkeys([*spec.fields, *spec.exact_fields]))


def _postgres_q(spec: Searchable, text: str) -> Q:
    from django.contrib.postgres.search import SearchQuery
    from django.db.models import BooleanField
    from django.db.models.expressions import CombinedExpression

    query = SearchQuery(text, config=spec.config, search_type="websearch")
    q = Q(CombinedExpression(search_vector(spec), "@@", query, output_field=BooleanField()))
    for f in spec.fuzzy_fields:
        q |= Q(**{f"{f}__trgm_similar": text})
    for f in spec.exact_fields:
        q |= Q(**{f"{f}__icontains": text})
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
