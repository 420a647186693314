"""The search backend switch: the same questions answered by Elasticsearch when configured, else by the database.

Two entry points, whichever engine runs:

- `search_filter(queryset, text, user=...)`: a list's `?search=` (leads, contacts, accounts, deals)
  narrows an already restricted queryset to the matches of `text`.
- `search_records(user=..., text=..., ...)`: the search page, the top bar and `GET /api/v1/search/`
  across every registered kind: hits with highlights, a total, and facet counts (kind, status,
  stage, owner, territory, created period), one page at a time. Same answer shape on both engines.

Engines:

- Elasticsearch, when `settings.ELASTICSEARCH_URL` is set (salesapp.search_engine): typo-tolerant,
  as-you-type prefixes, ranking by exact name or email and recent activity. The user's visibility
  (the access rule's own grants, as id sets) is a filter inside the query, so no hit and no count
  includes a record the user may not see. A configured engine that is down raises: it is reported,
  never silently replaced by the database.
- Database: on PostgreSQL a full-text match (`SearchVector` @@ `websearch` `SearchQuery`, config
  "simple") or trigram similarity on the fuzzy fields (`%`, served by GIN `gin_trgm_ops` indexes the
  owning app's migration creates); on SQLite every word `LIKE` some field. Encrypted emails and phones
  match only whole, through their blind index (`SearchKind.blind_fields`), on both databases.
  It starts from the app's selector, which applies `restrict()`.

Rare words on PostgreSQL, like every Elasticsearch list search, answer at most ES_MAX_HITS (1,000)
matches. Apps register their kinds in `ready()` (salesapp.search_kinds.register_search_kind).
"""

from __future__ import annotations

import heapq
import html
import re
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

import django_filters
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, transaction
from django.db.models import CharField, Lookup, Q, QuerySet, TextField

from salesapp import search_engine
from salesapp.crypto import blind_index
from salesapp.search_kinds import (
    CREATED_LABELS,
    ParsedQuery,
    SearchKind,
    created_ranges,
    kind_for_model,
    parse_query,
    search_kind,
    search_kinds,
)

ES_MAX_HITS = 1000
MAX_WINDOW = 10_000  # the deepest result a page may reach (Elasticsearch's from + size limit)


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
    if settings.ELASTICSEARCH_URL:
        return "elasticsearch"
    return "postgresql" if connection.vendor == "postgresql" else "database"


def search_vector(kind: SearchKind):
    """The full-text expression; the GIN index must be built from this same expression."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector(*kind.fields, config=kind.config)


# --- a list's ?search= -----------------------------------------------------------------------------------

def search_filter(queryset: QuerySet, text: str, *, user=None) -> QuerySet:
    """Narrow `queryset` (already restricted to what `user` may see) to the records matching `text`."""
    query = parse_query(text)
    if not query:
        return queryset
    kind = kind_for_model(queryset.model)
    if backend_name() == "elasticsearch":
        if user is None:
            raise ImproperlyConfigured("a search on Elasticsearch filters by the user's visibility: pass the user")
        return queryset.filter(pk__in=search_engine.matching_ids(user=user, kind=kind, query=query, limit=ES_MAX_HITS))
    return database_filter(queryset, kind, query)


def database_filter(queryset: QuerySet, kind: SearchKind, query: ParsedQuery, *, first_page: bool = True) -> QuerySet:
    """The database engine's match: free text everywhere, `email:` / `company:` in their fields.

    `first_page`: the caller reads one page newest-first (a list), so PostgreSQL picks its plan by probing
    (`postgres_filter`); a caller that reads every match (counts, facets) leaves the plan to the planner.
    """
    for name, value in query.fields:
        if name in kind.blind_fields:
            queryset = queryset.filter(_blind_q(kind, value, only=name))
            continue
        columns = kind.field_queries.get(name)
        if not columns:
            return queryset.none()  # this kind has no such field: nothing of it matches
        queryset = queryset.filter(reduce(or_, (Q(**{f"{c}__icontains": value}) for c in columns)))
    if not (query.words or query.phrases):
        return queryset
    if connection.vendor == "postgresql":
        if not first_page:
            return queryset.filter(_postgres_q(kind, query.free_text))
        return postgres_filter(queryset, kind, query.free_text)
    parts = [*query.words, *query.phrases]
    words = reduce(and_, (reduce(or_, (Q(**{f"{f}__icontains": part}) for f in kind.fields)) for part in parts))
    return queryset.filter(words | _blind_q(kind, query.free_text))


def _blind_q(kind: SearchKind, text: str, *, only: str = "") -> Q:
    """The records whose encrypted email or phone (`only` one of them, if named) is exactly `text`."""
    q = Q(pk__in=[])
    for name, field in kind.blind_fields.items():
        key = blind_index(name, text) if only in ("", name) else ""
        if key:
            q |= Q(**{field: key})
    return q


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


def postgres_filter(queryset: QuerySet, kind: SearchKind, text: str) -> QuerySet:
    """`queryset` narrowed to the matches of `text`, with a plan that suits how common the words are.

    Common words are found fastest by walking the primary key newest-first and
    testing each row (the lazy filter returned as is); rare words by the GIN
    indexes (bitmap scans), where that walk would read the whole table. A probe
    walk for one page gets WALK_TIMEOUT_MS; when it runs out, the words are
    rare, and the index plan fetches the ids (at most ES_MAX_HITS) instead.
    """
    matches = queryset.filter(_postgres_q(kind, text))
    probe = matches.order_by("-pk").values_list("pk", flat=True)[:PROBE_ROWS]
    try:
        _with_settings({"statement_timeout": f"{WALK_TIMEOUT_MS}ms"}, lambda: list(probe))
        return matches
    except OperationalError:
        pass  # the statement timeout: the words are rare
    bitmap = matches.order_by().values_list("pk", flat=True)[:ES_MAX_HITS]
    ids = _with_settings({"enable_seqscan": "off", "enable_indexscan": "off"}, lambda: list(bitmap))
    return queryset.filter(pk__in=ids)


def _postgres_q(kind: SearchKind, text: str) -> Q:
    """Full text where every word typed matches a word it begins (as you type: "kather" finds Katherine) and
    quoted phrases match as phrases; or a name trigram-similar to the text (typos); or the email or phone
    it is, exactly."""
    from django.contrib.postgres.search import SearchQuery
    from django.db.models import BooleanField
    from django.db.models.expressions import CombinedExpression

    query = parse_query(text)
    prefixes = [token for word in query.words for token in re.findall(r"\w+", word)]
    parts = [SearchQuery(" & ".join(f"{token}:*" for token in prefixes), config=kind.config, search_type="raw")
             ] if prefixes else []
    parts += [SearchQuery(phrase, config=kind.config, search_type="phrase") for phrase in query.phrases]
    q = Q(pk__in=[])
    if parts:
        q = Q(CombinedExpression(search_vector(kind), "@@", reduce(and_, parts), output_field=BooleanField()))
    for f in kind.fuzzy_fields:
        q |= Q(**{f"{f}__trgm_similar": text})
    return q | _blind_q(kind, text)


# --- the search across kinds --------------------------------------------------------------------------------

FACET_FILTERS = ("status", "stage", "owner", "territory", "created")


@dataclass(frozen=True)
class SearchRequest:
    """A validated search: the text, the kinds chosen (empty: all), one value per facet filter, the page."""

    text: str
    kinds: tuple[str, ...] = ()
    filters: tuple[tuple[str, object], ...] = ()
    page: int = 1
    page_size: int = 20


def search_records(*, user, request: SearchRequest) -> dict:
    """Hits, total and facet counts for `request`, of the records `user` may see, from the configured engine.

    The answer: {query, backend, total, page, page_size, next_page, results: [{kind, id, title,
    subtitle, url, highlight, ...}], facets: {kind, status, stage, owner, territory, created:
    [{value, label, count}]}}. Every count is of the records the user may see, as their lists
    count them with the same filters.
    """
    everyone = search_kinds()
    plan = _Plan(user=user, query=parse_query(request.text), everyone=everyone,
                 chosen=[search_kind(key) for key in request.kinds] or everyone, filters=dict(request.filters),
                 created=created_ranges(), request=request)
    answer = _elasticsearch_records(plan) if backend_name() == "elasticsearch" else _database_records(plan)
    chosen = plan.chosen
    total = answer["total"]
    return {
        "query": request.text,
        "backend": backend_name(),
        "total": total,
        "page": request.page,
        "page_size": request.page_size,
        "next_page": request.page + 1 if request.page * request.page_size < min(total, MAX_WINDOW) else None,
        "results": answer["results"],
        "facets": _labelled(user, answer["counts"], chosen, everyone),
    }


@dataclass(frozen=True)
class _Plan:
    user: object
    query: ParsedQuery
    everyone: list[SearchKind]
    chosen: list[SearchKind]
    filters: dict
    created: dict
    request: SearchRequest


def _facet_names(chosen: list[SearchKind]) -> list[str]:
    return list(dict.fromkeys(f.name for kind in chosen for f in kind.facets))


def _elasticsearch_records(plan: _Plan) -> dict:
    created, chosen, request = plan.created, plan.chosen, plan.request
    clauses = []
    for name, value in plan.filters.items():
        if name == "created":
            start, end = created[value]
            bounds = {**({"gte": start.isoformat()} if start else {}), **({"lt": end.isoformat()} if end else {})}
            clauses.append({"range": {"created_at": bounds}})
        else:
            clauses.append({"term": {name: value}})
    body = search_engine.search_body(
        user=plan.user, query=plan.query, kinds=plan.everyone, chosen=chosen, filters=clauses,
        facets=_facet_names(chosen), created=created, offset=(request.page - 1) * request.page_size,
        size=request.page_size)
    found = search_engine.search(kinds=plan.everyone, body=body)
    aggs = found["aggregations"]
    counts = {"kind": {b["key"]: b["doc_count"] for b in aggs["kind"]["buckets"]}}
    for name in _facet_names(chosen):
        counts[name] = {b["key"]: b["doc_count"] for b in aggs["chosen"][name]["buckets"]}
    counts["created"] = {b["key"]: b["doc_count"] for b in aggs["chosen"]["created"]["buckets"]}
    results = [_hit(search_kind(hit["_source"]["kind"]), hit["_source"], _es_highlight(hit.get("highlight", {})),
                    hit.get("_score")) for hit in found["hits"]["hits"]]
    return {"total": found["hits"]["total"]["value"], "results": results, "counts": counts}


def _es_highlight(raw: dict) -> dict:
    """One highlighted value per shown field (a prefix or a typo-tolerant match, whichever marked it)."""
    shown = {}
    for name, fragments in raw.items():
        base = name.split(".")[0]
        shown[base.replace("email_words", "email")] = fragments[0]
    return shown


def _filtered(kind: SearchKind, plan: _Plan) -> QuerySet | None:
    """The kind's records the user may see, matching the query and the facet filters (None: the kind
    cannot match a filter it does not have)."""
    queryset = kind.visible(plan.user)
    for name, value in plan.filters.items():
        if name == "created":
            start, end = plan.created[value]
            queryset = queryset.filter(**({"created_at__gte": start} if start else {}),
                                       **({"created_at__lt": end} if end else {}))
            continue
        facet = kind.facet(name)
        if facet is None:
            return None
        queryset = queryset.filter(**{facet.model_field: value})
    return database_filter(queryset, kind, plan.query, first_page=False) if plan.query else queryset


def _database_records(plan: _Plan) -> dict:
    """One pass over each kind's matches: the columns the facets need, counted here, and the newest
    `page * page_size` kept for the page (the database engine ranks by creation, newest first)."""
    created, chosen, request = plan.created, plan.chosen, plan.request
    counts: dict[str, dict] = {"kind": {}, "created": dict.fromkeys(created, 0)}
    for name in _facet_names(chosen):
        counts[name] = {}
    window = request.page * request.page_size
    candidates = []
    for kind in plan.everyone:
        queryset = _filtered(kind, plan)
        if queryset is None:
            continue
        if kind not in chosen:
            counts["kind"][kind.key] = queryset.count()
            continue
        rows = list(queryset.order_by().values_list("pk", "created_at", *(f.model_field for f in kind.facets)))
        counts["kind"][kind.key] = len(rows)
        for _pk, created_at, *values in rows:
            for facet, value in zip(kind.facets, values, strict=True):
                if value is not None:
                    counts[facet.name][value] = counts[facet.name].get(value, 0) + 1
            for key, (start, end) in created.items():
                if (start is None or created_at >= start) and (end is None or created_at < end):
                    counts["created"][key] += 1
        candidates += [(created_at, pk, kind) for pk, created_at, *_ in heapq.nlargest(
            window, rows, key=lambda row: (row[1], row[0]))]
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    page = candidates[(request.page - 1) * request.page_size:window]
    return {"total": sum(counts["kind"].get(k.key, 0) for k in chosen),
            "results": _database_hits(page, plan.query), "counts": counts}


def _database_hits(page: list, query: ParsedQuery) -> list[dict]:
    """The page's records as the index would hold them (the documents' own prepare()), highlighted."""
    by_kind: dict[str, list[int]] = {}
    for _, pk, kind in page:
        by_kind.setdefault(kind.key, []).append(pk)
    sources = {}
    for key, pks in by_kind.items():
        kind = search_kind(key)
        doc = kind.doc()
        for obj in kind.indexed().filter(pk__in=pks):
            sources[(key, obj.pk)] = doc.prepare(obj)
    hits = []
    for _, pk, kind in page:
        source = sources.get((kind.key, pk))
        if source is not None:
            hits.append(_hit(kind, source, _database_highlight(source, query.terms), None))
    return hits


HIGHLIGHTED = ("name", "company", "email", "title", "industry")


def _database_highlight(source: dict, terms: list[str]) -> dict:
    """The shown fields with the typed words (and the words they begin) marked."""
    words = sorted({t.lower() for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return {}
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    marked = {}
    for name in HIGHLIGHTED:
        value = source.get(name) or ""
        if value and pattern.search(value):
            pieces, last = [], 0
            for m in pattern.finditer(value):
                pieces += [value[last:m.start()], f"<em>{m.group(0)}</em>"]
                last = m.end()
            marked[name] = "".join([*pieces, value[last:]])
    return marked


def _only_marks(value: str) -> str:
    """A highlighted value as safe HTML whichever engine marked it: the text escaped, only <em> marks kept."""
    return "".join(part if part in ("<em>", "</em>") else html.escape(html.unescape(part))
                   for part in re.split(r"(</?em>)", value))


def _hit(kind: SearchKind, source: dict, highlight: dict, score) -> dict:
    return {
        "kind": kind.key,
        "id": source["id"],
        "title": source.get("name") or source.get("email") or f"#{source['id']}",
        "subtitle": " · ".join(str(source[f]) for f in kind.subtitle if source.get(f)),
        "url": kind.url(source["id"]),
        "highlight": {name: _only_marks(value) for name, value in highlight.items()},
        "score": score,
        "email": source.get("email") or "",
        "company": source.get("company") or "",
        "status": source.get("status") or source.get("stage") or "",
        "owner_id": source.get("owner"),
        "territory_id": source.get("territory"),
        "created_at": source.get("created_at"),
    }


def _labelled(user, counts: dict, chosen: list[SearchKind], everyone: list[SearchKind]) -> dict:
    """Counts as [{value, label, count}], most first; the created periods in their own order."""
    facets = {"kind": [{"value": k.key, "label": k.label, "count": counts["kind"].get(k.key, 0)}
                       for k in everyone if counts["kind"].get(k.key)]}
    facets["kind"].sort(key=lambda b: -b["count"])
    for name in _facet_names(chosen):
        values = [v for v, n in counts.get(name, {}).items() if n]
        facet = next(k.facet(name) for k in chosen if k.facet(name))
        labels = facet.labels(user, values) if facet.labels and values else {}
        facets[name] = sorted(({"value": v, "label": str(labels.get(v, v)), "count": counts[name][v]} for v in values),
                              key=lambda b: (-b["count"], b["label"]))
    facets["created"] = [{"value": key, "label": CREATED_LABELS[key], "count": counts["created"].get(key, 0)}
                         for key in CREATED_LABELS]
    return facets


class SearchFilterSet(django_filters.FilterSet):
    """A filter set whose `search` (and `q`) narrows by the configured search engine.

    The engine filters by the user's visibility itself, so the filter set needs the user: from the
    request (the API's filter backend passes it) or given as `user=` (pages, selectors).
    """

    search = django_filters.CharFilter(method="search_text", label="Search")
    q = django_filters.CharFilter(method="search_text", label="Search")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user or getattr(self.request, "user", None)

    def search_text(self, queryset, name, value):
        return search_filter(queryset, value, user=self.user)
