"""Lists people work in: one mechanism for every app's list page and the API's `ordering`.

An app declares its sort keys once on its filter set (`SortedFilterSet.sorts`) and its columns once
(`Column`); `list_context` turns a request into a page: saved view, default filter, sort with an id
tiebreak, a count that stays cheap on a million rows, page links, column choice and header links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import QuerySet
from django.http import QueryDict

from salesapp.models import SavedView

SORT_PARAM = "ordering"
COLUMNS_PARAM = "cols"
VIEW_PARAM = "view"
PAGE_PARAM = "page"
# Parameters that shape the page, not the rows: they never stop the default filter from applying.
LAYOUT_PARAMS = (SORT_PARAM, COLUMNS_PARAM, VIEW_PARAM, PAGE_PARAM)


def sort_fields(sorts: dict[str, tuple[str, ...]], value: str) -> list[str] | None:
    """The `order_by()` of an `ordering` value ("-amount" or "stage,-amount"), with the id as the last
    tiebreak so that equal values keep one order across pages; None when a key is not one of `sorts`.
    """
    fields: list[str] = []
    for term in (t.strip() for t in value.split(",")):
        descending = term.startswith("-")
        key = term.removeprefix("-")
        if key not in sorts:
            return None
        fields.extend(f"-{f}" if descending else f for f in sorts[key])
    if not any(f.lstrip("-") == "id" for f in fields):
        fields.append("-id" if fields and fields[0].startswith("-") else "id")
    return fields


class SortFilter(django_filters.CharFilter):
    """`ordering=key` or `-key` (comma-separated), keys from the filter set's `sorts`; others are a field error."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.order_by(*sort_fields(self.parent.sorts, value))


class SortedFilterSet(django_filters.FilterSet):
    """A filter set that sorts: `sorts` maps each key people (and API clients) may sort by to its fields.

    Keys name the model's own columns, so the API's cursor pages can read their position from each row.
    """

    sorts: dict[str, tuple[str, ...]] = {}
    ordering = SortFilter(label="Sort keys, comma-separated, each prefixed with - for descending (an unknown key "
                                "answers 400 listing the list's keys)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters[SORT_PARAM].extra["validators"] = [self._check_ordering]

    def _check_ordering(self, value: str) -> None:
        if value and sort_fields(self.sorts, value) is None:
            raise ValidationError(f"Unknown sort {value!r}; choose from {', '.join(self.sorts)} (prefix - to reverse).")


# --- counts ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowCount:
    """How many rows a list has: exact up to the threshold, the planner's estimate above it."""

    value: int
    estimated: bool


def row_count(qs: QuerySet) -> RowCount:
    """Count up to `LIST_EXACT_COUNT_LIMIT` rows exactly (a bounded scan); above it, PostgreSQL's planner estimate.

    A COUNT(*) over a million visible leads costs more than the page; people need "about 1.2M", not the
    last digit. SQLite has no planner estimate, so there the count is the bound ("more than 10,000").
    """
    limit = settings.LIST_EXACT_COUNT_LIMIT
    qs = qs.order_by()
    counted = qs[:limit + 1].count()
    if counted <= limit:
        return RowCount(counted, False)
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        return RowCount(limit, True)
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)  # psycopg parses json; other drivers may not
    return RowCount(max(int(plan[0]["Plan"]["Plan Rows"]), limit), True)


# --- pages ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of a list page: its key (used by the template and `cols=`), its header, the sort key its
    header orders by (None: not sortable), whether it shows before the user chooses, and its alignment."""

    key: str
    label: str
    sort: str | None = None
    default: bool = True
    end: bool = False


@dataclass
class ListPage:
    """One page of a list and everything its template shows around the rows."""

    key: str
    rows: list
    number: int
    has_next: bool
    count: RowCount
    page_size: int
    columns: list[Column]
    shown: dict[str, bool]
    headers: list[dict]
    ordering: str
    query: str
    defaulted: bool
    show_all_href: str
    saved_views: list[SavedView]
    current_view: SavedView | None
    page_links: list[dict] = field(default_factory=list)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def last_page(self) -> int:
        return max(1, -(-self.count.value // self.page_size))


def _href(params: QueryDict, **changes) -> str:
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    return "?" + query.urlencode()


def saved_views(request, key: str) -> tuple[list[SavedView], SavedView | None]:
    """The user's saved views of list `key`, and the one the request's `view` marks (None: none)."""
    saved = list(SavedView.objects.filter(user=request.user, list_key=key))
    view_id = request.GET.get(VIEW_PARAM, "")
    return saved, next((v for v in saved if str(v.pk) == view_id), None)


def list_context(request, *, key: str, filterset_class, queryset: QuerySet, columns: list[Column],
                 default_ordering: str, defaults: dict[str, str] | None = None,
                 page_size: int = 50) -> tuple[ListPage, django_filters.FilterSet]:
    """The page a list request asks for, and the bound filter set (for the filter form).

    - `defaults`: filters applied while the request names none of the filter set's filters (closed records
      hidden); any filter named, even empty, shows everything it matches.
    - `ordering` picks a sort among the filter set's `sorts`; an unknown one falls back to `default_ordering`.
    - `cols` picks columns (in the list's order); none picked: the default columns.
    - `view` marks which of the user's saved views this query came from.
    """
    params = request.GET.copy()
    filter_names = set(filterset_class.base_filters) - set(LAYOUT_PARAMS)
    defaulted = bool(defaults) and not any(name in params for name in filter_names)
    data = params.copy()
    if defaulted:
        for name, value in defaults.items():
            data[name] = value
    filterset = filterset_class(data, queryset=queryset, user=request.user)
    qs = filterset.qs
    ordering = filterset.form.cleaned_data.get(SORT_PARAM) or default_ordering
    qs = qs.order_by(*sort_fields(filterset_class.sorts, ordering))

    try:
        number = max(1, int(params.get(PAGE_PARAM) or 1))
    except ValueError:
        number = 1
    start = (number - 1) * page_size
    rows = list(qs[start:start + page_size + 1])
    count = row_count(qs)

    chosen = [c for c in params.getlist(COLUMNS_PARAM) if c]
    shown_columns = [c for c in columns if c.key in chosen] if chosen else [c for c in columns if c.default]
    base = params.copy()
    base.pop(PAGE_PARAM, None)
    headers = []
    for column in shown_columns:
        header = {"key": column.key, "label": column.label, "end": column.end, "href": "", "direction": ""}
        if column.sort:
            current = ordering.split(",")[0]
            if current == column.sort:
                header["direction"], flipped = "ascending", f"-{column.sort}"
            elif current == f"-{column.sort}":
                header["direction"], flipped = "descending", column.sort
            else:
                flipped = column.sort
            header["href"] = _href(base, **{SORT_PARAM: flipped, VIEW_PARAM: None})
        headers.append(header)

    saved, current = saved_views(request, key)
    page = ListPage(
        key=key, rows=rows[:page_size], number=number, has_next=len(rows) > page_size, count=count,
        page_size=page_size, columns=columns, shown={c.key: True for c in shown_columns}, headers=headers,
        ordering=ordering, query=base.urlencode(), defaulted=defaulted,
        show_all_href=_href(base, **{name: "" for name in (defaults or {})}) + "".join(
            f"&{name}=" for name in (defaults or {})),
        saved_views=saved, current_view=current,
    )
    window = range(max(1, number - 2), min(page.last_page, number + 2) + 1) if not count.estimated else range(
        max(1, number - 2), number + (3 if page.has_next else 1))
    page.page_links = [{"number": n, "href": _href(base, **{PAGE_PARAM: n}), "current": n == number} for n in window]
    return page, filterset
