"""The data-access audit: who read which records, when and from where.

What is recorded: a record's detail (its page, its API detail and the API's GET actions on it),
API list reads (the ids of the page served and its filter; a `q` makes it a search), searches on
pages, and exports (with their filter and, once streamed, their row count).

It must not slow the request: `record()` only collects entries on the request; the middleware
hands them to the response, whose close (after the last byte went out, which is when a WSGI
server closes it) writes them in one insert. API reads are recorded by the middleware itself from
what the API view answered, so no API view records by hand. Entries are deleted after their
retention policy's days (salesapp.retention, "data_access": 365 days unless an admin changes it).
Changes to records are audited apart, by django-auditlog.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.db.models import Model
from django.utils import timezone

from salesapp.clientip import client_ip
from salesapp.models import DataAccess
from salesapp.search_kinds import search_kind

DETAIL, LIST, SEARCH, EXPORT = (DataAccess.Kind.DETAIL, DataAccess.Kind.LIST, DataAccess.Kind.SEARCH,
                                DataAccess.Kind.EXPORT)
MAX_IDS = 200
# Query parameters that page through a list rather than choose what is in it.
_PAGING = {"cursor", "page", "page_size", "format"}
_PENDING = "_data_access"


def _address(request) -> str | None:
    """The client's IP address, or None when what the proxies passed on is not one."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def _django_request(request):
    return getattr(request, "_request", request)  # a DRF Request wraps Django's


def filters_of(request) -> dict:
    """The filter a list or export was asked with: its query parameters, paging left out."""
    return {k: v if len(v) > 1 else v[0] for k, v in request.GET.lists() if k not in _PAGING}


def record(request, *, kind: str, model: type[Model] | str, ids: Iterable = (), count: int | None = None,
           filters: dict | None = None) -> DataAccess:
    """Note that the request's user read `ids` (or `count` rows) of `model`; written after the response.

    Answers the entry, so an export can set its row count while it streams.
    """
    request = _django_request(request)
    user = getattr(request, "user", None)
    ids = [i for _, i in zip(range(MAX_IDS), ids, strict=False)]
    entry = DataAccess(
        user=user if getattr(user, "is_authenticated", False) else None,
        at=timezone.now(),
        address=_address(request),
        kind=kind,
        model=model if isinstance(model, str) else model._meta.label_lower,
        object_ids=ids,
        count=len(ids) if count is None and kind != EXPORT else count,
        filters=filters_of(request) if filters is None else filters,
        path=request.path[:500],
    )
    request.__dict__.setdefault(_PENDING, []).append(entry)
    return entry


def record_detail(request, obj: Model) -> None:
    """Note that the request's user opened `obj` (a record's page)."""
    record(request, kind=DETAIL, model=type(obj), ids=[obj.pk], filters={})


def record_list(request, model: type[Model] | str, ids: Iterable, *, filters: dict | None = None) -> None:
    """Note a list the user was served; with a search (`q`) it is a search."""
    filters = filters_of(request) if filters is None else filters
    record(request, kind=SEARCH if filters.get("q") else LIST, model=model, ids=ids, filters=filters)


def record_search(request, model: type[Model] | str, ids: Iterable) -> None:
    """Note what a page's search (`q`) showed; a page listed without a search is not recorded."""
    if request.GET.get("q", "").strip():
        record_list(request, model, ids)


def record_search_hits(request, answer: dict) -> None:
    """Note what a search across kinds showed (the search page, the top bar, `GET /api/v1/search/`), per kind."""
    by_kind: dict[str, list] = {}
    for hit in answer["results"]:
        by_kind.setdefault(hit["kind"], []).append(hit["id"])
    for kind, ids in by_kind.items():
        record(request, kind=SEARCH, model=search_kind(kind).model, ids=ids, count=len(ids), filters=filters_of(request))


def pending(request) -> list[DataAccess]:
    return _django_request(request).__dict__.get(_PENDING, [])


def write(entries: list[DataAccess]) -> None:
    """Store what a request collected, in one insert."""
    if entries:
        DataAccess.objects.bulk_create(entries)


# --- API reads, from what the API view answered ---------------------------------------------------

def _api_rows(data) -> list | None:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"]
    return data if isinstance(data, list) else None


def record_api_read(request, response) -> None:
    """Record a successful GET of a model viewset: a detail (and the GET actions on one record) or a list."""
    view = getattr(response, "renderer_context", {}).get("view") if hasattr(response, "renderer_context") else None
    queryset = getattr(view, "queryset", None)
    if request.method != "GET" or not 200 <= response.status_code < 300 or queryset is None:
        return
    model = queryset.model
    lookup = view.kwargs.get(getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk"))
    if getattr(view, "detail", False) and lookup is not None:
        action = getattr(view, "action", "retrieve")
        record(request, kind=DETAIL, model=model, ids=[int(lookup) if str(lookup).isdigit() else lookup],
               filters={} if action == "retrieve" else {"action": action})
        return
    rows = _api_rows(getattr(response, "data", None))
    if rows is not None:
        record_list(request, model, [r["id"] for r in rows if isinstance(r, dict) and "id" in r])


class DataAccessMiddleware:
    """Collect the request's data-access entries and write them when the response is closed.

    Sits inside AuthenticationMiddleware; API views have authenticated their user by the time the
    response comes back through.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        record_api_read(request, response)
        entries = pending(request)
        if entries:
            # Run by HttpResponse.close(), which the WSGI server calls after sending the body.
            response._resource_closers.append(lambda: write(entries))
        return response
