"""CSV exports: streamed, and safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read
as a formula by Excel and LibreOffice (CSV injection); such text cells get a
leading apostrophe so they show as typed. Numbers are written as numbers.
Every app's export calls `csv_export(...)` with a queryset from a selector, so what a user may
export is exactly what `Model.objects.restrict(user)` lets them see; columns the field policy
hides from the user are left out (salesapp.fields), people who withdrew consent, opted out of
sale or sharing (CCPA) or were erased are left out (salesapp.privacy.shareable), and the export is
recorded in the data-access audit with its filter and row count (salesapp.access_log).
"""

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from salesapp import access_log, fields
from salesapp.models import PersonalDataModel
from salesapp.privacy import shareable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value) -> str | int | float | Decimal:
    """The value as it should appear in the CSV, with formula-like text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def csv_rows(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    """Encoded CSV lines: the header, then each row escaped."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel then reads the file as UTF-8
    yield writer.writerow([escape_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([escape_cell(v) for v in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A streaming CSV download; `rows` should be an iterator (e.g. queryset.values_list().iterator())."""
    response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_export(request, *, queryset: QuerySet, columns: Sequence[str], filename: str) -> StreamingHttpResponse:
    """The one way to export records: `queryset` (already restricted and filtered) as a streamed CSV of
    `columns` (`.values()` names) less those the field policy hides from the user; the header is
    the column names. Records about people leave out those whose data may not be shared. The read is
    audited with the request's filter and, once streamed, the row count.
    """
    columns = fields.visible(request.user, queryset.model, columns)
    if issubclass(queryset.model, PersonalDataModel):
        queryset = queryset.filter(shareable())
    entry = access_log.record(request, kind=access_log.EXPORT, model=queryset.model, count=0)

    def counted(rows):
        for row in rows:
            entry.count += 1
            yield row

    return csv_response(filename, columns, counted(queryset.values_list(*columns).iterator(chunk_size=2000)))
