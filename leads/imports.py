"""The `leads` import kind: CSV rows become leads, or update the lead with the same email."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from leads import services
from leads.dedup import find_duplicates
from leads.models import Lead
from salesapp.access import CHANGE
from salesapp.imports import ImportColumn, ImportKind, RowError, RowErrors, register_import_kind
from salesapp.normalize import normalize_email

COLUMNS = [
    ImportColumn("email", required=True, help="The lead's email; a lead with the same email is updated"),
    ImportColumn("first_name"), ImportColumn("last_name"), ImportColumn("phone"), ImportColumn("company"),
    ImportColumn("title"), ImportColumn("industry"),
    ImportColumn("employee_count", help="Whole number, not negative"),
    ImportColumn("annual_revenue", help="Number, not negative"),
    ImportColumn("website"), ImportColumn("country", help="ISO 3166 code, e.g. US"), ImportColumn("state"),
    ImportColumn("postal_code"), ImportColumn("source"),
    ImportColumn("status", help="new, contacted, qualified or unqualified (new leads only)"),
    ImportColumn("owner_email", help="Email of the user who owns the lead; empty routes it"),
    ImportColumn("territory", help="Territory name; empty lets the matcher decide"),
    ImportColumn("created_at", admin_only=True, help="Original creation time (ISO 8601), for migrations"),
]
FIELD_COLUMNS = ("email", "first_name", "last_name", "phone", "company", "title", "industry", "employee_count",
                 "annual_revenue", "website", "country", "state", "postal_code", "source")


def _created_at(value: str):
    value = value.strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise RowError("created_at", "not a date or time (use ISO 8601, e.g. 2024-03-01T09:30:00Z)")
        parsed = timezone.datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.utc)
    if parsed > timezone.now():
        raise RowError("created_at", "is in the future")
    return parsed


def validate_row(row: dict, ctx) -> dict:
    errors: list[RowError] = []
    data = {name: row[name] for name in FIELD_COLUMNS if row.get(name) not in ("", None)}
    data["email"] = row["email"]
    try:
        data = services.clean_lead_fields(data)
    except ValidationError as exc:
        errors.extend(RowError(col, msg) for col, msgs in exc.message_dict.items() for msg in msgs)
    status = row.get("status", "").strip().lower()
    if status:
        if status == Lead.Status.CONVERTED:
            errors.append(RowError("status", "a lead becomes converted only by converting it"))
        elif status not in Lead.Status.values:
            errors.append(RowError("status", f"unknown status {status!r}"))
        else:
            data["status"] = status
    for column, resolve in (("owner_email", ctx.owner), ("territory", ctx.territory)):
        try:
            value = resolve(row.get(column, ""), column)
        except RowError as exc:
            errors.append(exc)
        else:
            if value is not None:
                data["assigned_to" if column == "owner_email" else "territory"] = value
    if row.get("created_at"):
        try:
            data["created_at"] = _created_at(row["created_at"])
        except RowError as exc:
            errors.append(exc)
    email = normalize_email(row["email"])
    try:
        ctx.claim("email", email, "email")
    except RowError as exc:
        errors.append(exc)
    existing = Lead.objects.filter(normalized_email=email, merged_into__isnull=True).order_by("id").first()
    if existing is not None and not Lead.objects.filter(pk=existing.pk).restrict(ctx.actor, CHANGE).exists():
        errors.append(RowError("email", "a lead with this email exists and you may not change it"))
    if existing is None and not errors:
        # Same phone, or the same person at the same company, under another email: likely the same lead.
        for lead, reasons in find_duplicates(data, limit=1):
            column = "phone" if "same phone" in reasons else "company"
            if Lead.objects.filter(pk=lead.pk).restrict(ctx.actor).exists():
                which = f"lead {lead.pk} ({lead.email}); use its email to update it"
            else:
                which = "a lead you cannot see"
            errors.append(RowError(column, f"likely duplicate ({', '.join(reasons)}) of {which}"))
    if errors:
        raise RowErrors(errors)
    data["_existing"] = existing.pk if existing else None
    return data


def write_rows(rows: list[dict], ctx) -> tuple[int, int]:
    created = updated = 0
    for data in rows:
        existing = data.pop("_existing")
        if existing:
            lead = Lead.objects.get(pk=existing)
            data.pop("status", None)
            data.pop("created_at", None)
            services.lead_update(actor=ctx.actor, lead=lead, **data)
            updated += 1
        else:
            services.lead_create(actor=ctx.actor, **data)
            created += 1
    return created, updated


def register() -> None:
    register_import_kind(ImportKind(
        name="leads", label="Leads", columns=COLUMNS, validate_row=validate_row, write_rows=write_rows,
        permission="lead:import", list_url="leads:list",
    ))
