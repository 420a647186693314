"""Elasticsearch (or OpenSearch) as the read side of search: client, analyzers, indices behind aliases,
versioned writes, rebuild and drift check. Used only when `settings.ELASTICSEARCH_URL` is set.

- Each kind of record (lead, contact, account, deal) lives in one index reached through the alias
  `<ELASTICSEARCH_INDEX_PREFIX>-<kind>`. A rebuild fills a new index (reached meanwhile through
  `<alias>-next`, so event consumers write to both), then swaps the alias in one atomic call and
  drops the old index: searches never see a missing or half-filled index.
- Writes are versioned by the record's `updated_at` (external versioning, in microseconds): a stale
  read written late, a repeated event or a rebuild racing a consumer can never put an older version
  over a newer one. A record gone from the database is deleted with the current time as version.
- The engine is configured or absent, never silently replaced: a configured server that is down
  raises, and the caller reports it.

The Elasticsearch 8 client asks for `compatible-with=8` media types, which OpenSearch-compatible
servers refuse with 406. `ELASTICSEARCH_FLAVOR` says which server runs; "auto" asks it once
(`GET /` in plain JSON, which both answer) and, for OpenSearch, keeps a client whose node sends
plain `application/json`.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_elasticsearch_dsl import Document, fields
from elastic_transport import Urllib3HttpNode
from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from elasticsearch.dsl import analyzer, char_filter, normalizer, token_filter, tokenizer
from elasticsearch.helpers import streaming_bulk

from salesapp.access import visibility
from salesapp.search_kinds import ParsedQuery, SearchKind, search_kind

log = logging.getLogger(__name__)

# --- client ------------------------------------------------------------------------------------------------

_COMPAT = re.compile(r"application/vnd\.elasticsearch\+(json|x-ndjson)(; *compatible-with=\d+)?")


class PlainJsonNode(Urllib3HttpNode):
    """An HTTP node that sends plain `application/json` (and `x-ndjson`) instead of Elasticsearch's
    `compatible-with` media types, which OpenSearch-compatible servers refuse with 406."""

    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = _COMPAT.sub(r"application/\1", headers[name])
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


_clients: dict[tuple[str, str], Elasticsearch] = {}


def client() -> Elasticsearch:
    """The client for `settings.ELASTICSEARCH_URL` (one per URL and flavor, built on first use)."""
    url, flavor = settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_FLAVOR
    if not url:
        raise ImproperlyConfigured("ELASTICSEARCH_URL is not set: search runs on the database")
    key = (url, flavor)
    if key not in _clients:
        if flavor == "auto":
            flavor = server_flavor(url)
        if flavor not in ("elasticsearch", "opensearch"):
            raise ImproperlyConfigured(f"ELASTICSEARCH_FLAVOR must be auto, elasticsearch or opensearch, not {flavor!r}")
        options = {"request_timeout": settings.ELASTICSEARCH_TIMEOUT}
        if flavor == "opensearch":
            options["node_class"] = PlainJsonNode
        _clients[key] = Elasticsearch(url, **options)
    return _clients[key]


def server_flavor(url: str) -> str:
    """"opensearch" or "elasticsearch", from the server's own `GET /` (asked in plain JSON, which both accept)."""
    probe = Elasticsearch(url, node_class=PlainJsonNode, request_timeout=settings.ELASTICSEARCH_TIMEOUT)
    info = probe.options(headers={"accept": "application/json"}).perform_request("GET", "/").body
    return "opensearch" if info.get("version", {}).get("distribution") == "opensearch" else "elasticsearch"


# --- analysis: shared by every document ------------------------------------------------------------------

_prefix_grams = token_filter("prefix_grams", "edge_ngram", min_gram=1, max_gram=20)
_digits_only = char_filter("digits_only", "pattern_replace", pattern="[^0-9]", replacement="")

# Words as people type them: lowercase, accents folded (Zoë finds Zoe and the reverse).
folded_text = analyzer("folded_text", tokenizer="standard", filter=["lowercase", "asciifolding"])
# As-you-type: every prefix of every word is indexed; the query is analysed as plain words.
folded_prefix = analyzer("folded_prefix", tokenizer="standard", filter=["lowercase", "asciifolding", _prefix_grams])
# A phone number by its digits: every run of 4 to 16 digits, so "555 0101" finds "+46 (555) 01-01".
phone_grams = analyzer("phone_grams", tokenizer=tokenizer("digit_grams", "ngram", min_gram=4, max_gram=16,
                                                          token_chars=["digit"]), char_filter=[_digits_only])
phone_query = analyzer("phone_query", tokenizer="keyword", char_filter=[_digits_only])
# Exact values compared case- and accent-blind (exact name and email hits rank first).
folded_keyword = normalizer("folded_keyword", filter=["lowercase", "asciifolding"])

INDEX_SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "max_ngram_diff": 12, "refresh_interval": "1s"}


def email_words(email: str) -> str:
    """An email's words ("kj@langley.example" -> "kj langley example"), so its parts match and forgive typos."""
    return " ".join(w for w in re.split(r"[^\w]+", email or "") if w)


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def search_configured() -> bool:
    """Whether Elasticsearch is the search engine (else the database answers and nothing is indexed)."""
    return bool(settings.ELASTICSEARCH_URL)


# --- index names -------------------------------------------------------------------------------------------

def alias(key: str) -> str:
    """The alias every search and write goes through."""
    return f"{settings.ELASTICSEARCH_INDEX_PREFIX}-{key}"


def next_alias(key: str) -> str:
    """The alias of an index being rebuilt: consumers write to it too until the swap."""
    return f"{alias(key)}-next"


def _indices_behind(name: str) -> list[str]:
    try:
        return sorted(client().indices.get_alias(name=name))
    except NotFoundError:
        return []


def _create_index(kind: SearchKind, name: str, **index_settings) -> None:
    body = kind.document._index.clone(name=name).to_dict()
    body.setdefault("settings", {}).update(index_settings)
    client().indices.create(index=name, settings=body["settings"], mappings=body["mappings"])


def _new_index_name(kind: SearchKind) -> str:
    return f"{alias(kind.key)}-{time.time_ns() // 1000}"


_known_aliases: set[tuple[str, str]] = set()


def ensure_index(key: str) -> None:
    """Create the kind's index behind its alias when there is none yet (a fresh cluster: the first write
    or search makes it; `search_index rebuild` fills it)."""
    marker = (settings.ELASTICSEARCH_URL, alias(key))
    if marker in _known_aliases:
        return
    if not _indices_behind(alias(key)):
        # One fixed name, so two processes making it at once make one index (the second is told it exists).
        name = f"{alias(key)}-0"
        try:
            _create_index(search_kind(key), name)
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        client().indices.update_aliases(actions=[{"add": {"index": name, "alias": alias(key)}}])
    _known_aliases.add(marker)


# --- writes ------------------------------------------------------------------------------------------------

def version_of(updated_at) -> int:
    """A record's index version: its last change, in microseconds."""
    return int(updated_at.timestamp() * 1_000_000)


def _actions(kind: SearchKind, ids: Iterable, targets: list[str]):
    """Bulk actions writing the current database state of `ids` to every target index."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    doc = kind.doc()
    present = {obj.pk: obj for obj in kind.indexed().filter(pk__in=ids)}
    gone_version = time.time_ns() // 1000
    for pk in ids:
        obj = present.get(pk)
        for index in targets:
            if obj is None:
                yield {"_op_type": "delete", "_index": index, "_id": str(pk),
                       "version": gone_version, "version_type": "external_gte"}
            else:
                yield {"_op_type": "index", "_index": index, "_id": str(pk), "_source": doc.prepare(obj),
                       "version": version_of(obj.updated_at), "version_type": "external_gte"}


def _bulk(actions, *, refresh=None) -> int:
    """Send `actions`; a version conflict means a newer version is already there (fine), a missing
    document to delete is already gone (fine); anything else raises. Answers how many were written."""
    written = 0
    for ok, item in streaming_bulk(client(), actions, raise_on_error=False, raise_on_exception=True,
                                   chunk_size=1000, refresh=refresh if refresh is not None else _refresh()):
        if ok:
            written += 1
            continue
        (op, result), = item.items()
        if result.get("status") in (404, 409):
            continue
        raise RuntimeError(f"search index {op} of {result.get('_index')}/{result.get('_id')} failed: "
                           f"{result.get('error')}")
    return written


def _refresh():
    value = settings.ELASTICSEARCH_REFRESH
    return {"true": True, "false": False}.get(value, value)


def index_records(key: str, ids: Iterable) -> int:
    """Write the current database state of records `ids` of kind `key` to the index (removing those no
    longer there), in one bulk request, to the live index and to one being rebuilt."""
    ids = list(ids)
    if not ids:
        return 0
    ensure_index(key)
    targets = sorted(set(_indices_behind(alias(key))) | set(_indices_behind(next_alias(key))))
    return _bulk(_actions(search_kind(key), ids, targets))


# --- rebuild -----------------------------------------------------------------------------------------------

@dataclass
class RebuildReport:
    kind: str
    index: str
    documents: int
    seconds: float
    dropped: list[str]


def rebuild(key: str, *, batch_size: int = 2000, progress: Callable[[int, int], None] | None = None) -> RebuildReport:
    """Fill a new index from the database and swap the alias to it atomically; drop the old index.

    While it fills, event consumers write to it too (through the `-next` alias) with the same
    versioning, so nothing changed during the rebuild is lost and nothing older wins. Searches keep
    answering from the old index until the swap.
    """
    kind = search_kind(key)
    es = client()
    started = time.monotonic()
    name = _new_index_name(kind)
    _create_index(kind, name, refresh_interval="-1")
    for stale in _indices_behind(next_alias(key)):  # an interrupted rebuild's index
        es.indices.delete(index=stale)
    es.indices.update_aliases(actions=[{"add": {"index": name, "alias": next_alias(key)}}])
    queryset = kind.indexed()
    total = queryset.count()
    done, last_pk, doc = 0, None, kind.doc()
    while True:
        page = queryset.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        rows = list(page[:batch_size])
        if not rows:
            break
        _bulk(({"_op_type": "index", "_index": name, "_id": str(obj.pk), "_source": doc.prepare(obj),
                "version": version_of(obj.updated_at), "version_type": "external_gte"} for obj in rows),
              refresh=False)
        done += len(rows)
        last_pk = rows[-1].pk
        if progress:
            progress(done, total)
    es.indices.put_settings(index=name, settings={"refresh_interval": INDEX_SETTINGS["refresh_interval"]})
    es.indices.refresh(index=name)
    old = [index for index in _indices_behind(alias(key)) if index != name]
    es.indices.update_aliases(actions=[
        *({"remove": {"index": index, "alias": alias(key)}} for index in old),
        {"add": {"index": name, "alias": alias(key)}},
        {"remove": {"index": name, "alias": next_alias(key)}},
    ])
    for index in old:
        es.indices.delete(index=index)
    _known_aliases.add((settings.ELASTICSEARCH_URL, alias(key)))
    return RebuildReport(key, name, done, time.monotonic() - started, old)


# --- drift -------------------------------------------------------------------------------------------------

@dataclass
class DriftReport:
    """How the index differs from the database for one kind."""

    kind: str
    database: int
    index: int
    sampled: int
    missing: list[int]  # in the database, not in the index
    stale: list[int]  # in the index with an older version
    extra: list[int]  # in the index, gone from the database

    @property
    def clean(self) -> bool:
        return self.database == self.index and not (self.missing or self.stale or self.extra)


def drift(key: str, *, sample: int = 200, seed: int | None = None) -> DriftReport:
    """Compare counts, and a random sample of records both ways, between the database and the index."""
    kind = search_kind(key)
    es = client()
    ensure_index(key)
    es.indices.refresh(index=alias(key))
    queryset = kind.indexed()
    in_db = queryset.count()
    in_index = es.count(index=alias(key))["count"]
    rng = random.Random(seed)
    pks = list(queryset.order_by().values_list("pk", flat=True))
    picked = rng.sample(pks, min(sample, len(pks)))
    versions = {obj.pk: version_of(obj.updated_at) for obj in queryset.filter(pk__in=picked).only("pk", "updated_at")}
    missing, stale = [], []
    if picked:
        found = es.mget(index=alias(key), ids=[str(pk) for pk in picked], source=False)["docs"]
        for doc in found:
            pk = int(doc["_id"])
            if not doc.get("found"):
                missing.append(pk)
            elif doc["_version"] < versions[pk]:
                stale.append(pk)
    hits = es.search(index=alias(key), size=sample, source=False,
                     query={"function_score": {"query": {"match_all": {}},
                                               "random_score": {"seed": rng.randint(0, 2**31), "field": "_seq_no"}}})
    index_ids = [int(hit["_id"]) for hit in hits["hits"]["hits"]]
    known = set(queryset.filter(pk__in=index_ids).values_list("pk", flat=True))
    extra = [pk for pk in index_ids if pk not in known]
    return DriftReport(key, in_db, in_index, len(picked) + len(index_ids), sorted(missing), sorted(stale), sorted(extra))


# --- queries -----------------------------------------------------------------------------------------------

# Where words are looked for, and how much a hit in each counts.
TEXT_FIELDS = ["name^3", "email_words^2", "company^2", "title", "industry"]
PREFIX_FIELDS = ["name.prefix^2", "email_words.prefix", "company.prefix"]
HIGHLIGHT_FIELDS = ("name", "name.prefix", "company", "company.prefix", "email", "email_words",
                    "email_words.prefix", "title", "industry")
FACET_SIZE = 50


def text_query(query: ParsedQuery) -> dict:
    """Every word must match somewhere (typos forgiven, or as a prefix while typing); phrases match as
    phrases; `email:` and `company:` only in their field; a phone-like query by its digits."""
    must = []
    if query.digits:
        must.append({"match": {"phone": query.digits}})
    else:
        for word in query.words:
            must.append({"bool": {"minimum_should_match": 1, "should": [
                {"multi_match": {"query": word, "fields": TEXT_FIELDS, "fuzziness": "AUTO", "prefix_length": 1}},
                {"multi_match": {"query": word, "fields": PREFIX_FIELDS}},
            ]}})
    for phrase in query.phrases:
        must.append({"multi_match": {"query": phrase, "type": "phrase", "fields": TEXT_FIELDS}})
    for name, value in query.fields:
        if name == "email":
            must.append({"bool": {"minimum_should_match": 1, "should": [
                {"match": {"email": value}},
                {"match": {"email_words.prefix": {"query": email_words(value), "operator": "and"}}},
            ]}})
        else:
            must.append({"bool": {"minimum_should_match": 1, "should": [
                {"match": {"company": {"query": value, "operator": "and", "fuzziness": "AUTO", "prefix_length": 1}}},
                {"match": {"company.prefix": {"query": value, "operator": "and"}}},
            ]}})
    return {"bool": {"must": must or [{"match_all": {}}]}}


def ranking(query: ParsedQuery) -> list[dict]:
    """What lifts a hit: the exact name or email typed (recent activity is added by `ranked`)."""
    boosts = []
    if query.text and not query.fields:
        boosts.append({"match": {"name.exact": {"query": query.free_text.replace('"', ""), "boost": 8}}})
        boosts.append({"match": {"email": {"query": query.text, "boost": 10}}})
    for name, value in query.fields:
        if name == "email":
            boosts.append({"match": {"email": {"query": value, "boost": 10}}})
    return boosts


def ranked(query: ParsedQuery, *, filters: list[dict]) -> dict:
    """The whole query: every word must match, exact names and emails lift a hit, recent activity adds up
    to one point (a decay halving every 30 days), and the filters (access first) narrow it."""
    return {"function_score": {
        "query": {"bool": {"must": [text_query(query)], "should": ranking(query), "filter": filters}},
        "functions": [{"gauss": {"active_at": {"origin": "now", "scale": "30d", "decay": 0.5}}}],
        "boost_mode": "sum",
    }}


def access_filter(user, kinds: list[SearchKind]) -> dict:
    """The records of `kinds` the user may see, as a filter inside the engine (the access rule's own
    grants, evaluated to ids by `salesapp.access.visibility`): nothing outside it is ever counted."""
    per_kind = []
    for kind in kinds:
        seen = visibility(user, kind.model)
        clauses = [{"term": {"kind": kind.key}}]
        if not seen.everything:
            grants = [{"terms": {"id" if name == "pk" else kind.access_fields.get(name, name): sorted(ids)}}
                      for name, ids in seen.ids.items() if ids]
            clauses.append({"bool": {"should": grants, "minimum_should_match": 1}} if grants
                           else {"match_none": {}})
        per_kind.append({"bool": {"filter": clauses}})
    return {"bool": {"should": per_kind, "minimum_should_match": 1}}


def search_body(*, user, query: ParsedQuery, kinds: list[SearchKind], chosen: list[SearchKind], filters: list[dict],
                facets: list[str], created: dict, offset: int, size: int) -> dict:
    """The request: access and filters inside the query; the kind chosen as a post filter, so the kind
    facet counts every kind while the other facets count the chosen ones."""
    chosen_filter = {"terms": {"kind": [k.key for k in chosen]}}
    sub_aggs = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in facets}
    sub_aggs["created"] = {"date_range": {"field": "created_at", "ranges": [
        {"key": key, **({"from": start.isoformat()} if start else {}), **({"to": end.isoformat()} if end else {})}
        for key, (start, end) in created.items()]}}
    return {
        "query": ranked(query, filters=[access_filter(user, kinds), *filters]),
        "post_filter": chosen_filter,
        "aggs": {"kind": {"terms": {"field": "kind", "size": len(kinds) or 1}},
                 "chosen": {"filter": chosen_filter, "aggs": sub_aggs}},
        "highlight": {"encoder": "html", "number_of_fragments": 0,
                      "fields": {name: {} for name in HIGHLIGHT_FIELDS}},
        "sort": [{"_score": "desc"}, {"active_at": "desc"}, {"id": "desc"}],
        "track_total_hits": True,
        "from": offset,
        "size": size,
    }


def search(*, kinds: list[SearchKind], body: dict) -> dict:
    """Run a search over the kinds' aliases; a server that is down raises."""
    for kind in kinds:
        ensure_index(kind.key)
    return client().search(index=",".join(alias(k.key) for k in kinds), **body).body


def matching_ids(*, user, kind: SearchKind, query: ParsedQuery, limit: int) -> list[int]:
    """Ids of the records of `kind` the user may see that match `query`, best first (for list APIs)."""
    ensure_index(kind.key)
    found = client().search(index=alias(kind.key), source=False, size=limit,
                            query=ranked(query, filters=[access_filter(user, [kind])]))
    return [int(hit["_id"]) for hit in found["hits"]["hits"]]


# --- the documents' common shape ---------------------------------------------------------------------------

def document_meta(model, kind: str) -> tuple[type, type]:
    """The `Index` and `Django` inner classes of a kind's document: its index settings, its model, and
    `ignore_signals` (events index, never model signals)."""
    index = type("Index", (), {"name": kind, "settings": INDEX_SETTINGS})
    django = type("Django", (), {"model": model, "kind": kind, "ignore_signals": True, "queryset_pagination": 2000})
    return index, django


class RecordDocument(Document):
    """What every kind's document holds, so one query searches them all: names, emails, companies,
    phones as typed and as digits, the facets (owner, territory, created), and the dates ranking uses.

    Apps subclass it per model (their documents.py) and fill the fields in `prepare_<field>`. Signals
    never index: `Django.ignore_signals`, and the event consumers do it (CQRS read side).
    """

    id = fields.IntegerField()
    kind = fields.KeywordField()
    name = fields.TextField(analyzer=folded_text, fields={
        "prefix": fields.TextField(analyzer=folded_prefix, search_analyzer=folded_text),
        "exact": fields.KeywordField(normalizer=folded_keyword),
    })
    email = fields.KeywordField(normalizer=folded_keyword)
    email_words = fields.TextField(analyzer=folded_text, fields={
        "prefix": fields.TextField(analyzer=folded_prefix, search_analyzer=folded_text)})
    company = fields.TextField(analyzer=folded_text, fields={
        "prefix": fields.TextField(analyzer=folded_prefix, search_analyzer=folded_text)})
    phone = fields.TextField(analyzer=phone_grams, search_analyzer=phone_query)
    title = fields.TextField(analyzer=folded_text)
    industry = fields.TextField(analyzer=folded_text)
    owner = fields.IntegerField()
    territory = fields.IntegerField()
    created_at = fields.DateField()
    updated_at = fields.DateField()
    active_at = fields.DateField()

    def prepare_kind(self, instance) -> str:
        return self.Django.kind

    def prepare_email_words(self, instance) -> str:
        return email_words(self.prepare_email(instance))

    def prepare_email(self, instance) -> str:
        return getattr(instance, "email", "") or ""

    def prepare_active_at(self, instance):
        return getattr(instance, "last_activity_at", None) or instance.updated_at

    def prepare_title(self, instance) -> str:
        return getattr(instance, "title", "") or ""

    def prepare_industry(self, instance) -> str:
        return getattr(instance, "industry", "") or ""

    def prepare_phone(self, instance) -> str:
        return getattr(instance, "phone", "") or ""

    def prepare_owner(self, instance):
        return getattr(instance, "owner_id", None)

    def prepare_territory(self, instance):
        return getattr(instance, "territory_id", None)
