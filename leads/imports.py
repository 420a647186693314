"""The `leads` import kind: CSV rows become leads, or update the lead with the same email."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from leads import services
from leads.dedup import find_duplicates, lead_find_by_email
from leads.models import Lead
from salesapp.access import CHANGE
from salesapp.assignment import assignee_check, territory_check
from salesapp.imports import (
    ImportColumn,
    ImportKind,
    RowError,
    RowErrors,
    parse_datetime_cell,
    register_import_kind,
)
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


def _row_errors(exc: ValidationError) -> list[RowError]:
    """A service's or the assignment policy's refusal as row errors, on the columns it names."""
    return [RowError(col, msg) for col, msgs in exc.message_dict.items() for msg in msgs]


def _resolved(resolve, row: dict, column: str, errors: list[RowError]):
    """The user or territory a cell names (None when blank); a cell naming nothing known is a row error."""
    try:
        return resolve(row.get(column, ""), column)
    except RowError as exc:
        errors.append(exc)
        return None


def _judge(check, errors: list[RowError], **kwargs) -> None:
    """Run an assignment-policy check; its refusal becomes a row error on the column it names."""
    try:
        check(**kwargs)
    except ValidationError as exc:
        errors.extend(_row_errors(exc))


def validate_row(row: dict, ctx) -> dict:
    """A row as lead fields. A new owner (`owner_email`) or territory must be the importer's to give."""
    errors: list[RowError] = []
    data = {name: row[name] for name in FIELD_COLUMNS if row.get(name) not in ("", None)}
    data["email"] = row["email"]
    try:
        data = services.clean_lead_fields(data)
    except ValidationError as exc:
        errors.extend(_row_errors(exc))
    status = row.get("status", "").strip().lower()
    if status:
        if status == Lead.Status.CONVERTED:
            errors.append(RowError("status", "a lead becomes converted only by converting it"))
        elif status not in Lead.Status.values:
            errors.append(RowError("status", f"unknown status {status!r}"))
        else:
            data["status"] = status
    email = normalize_email(row["email"])
    try:
        ctx.claim("email", email, "email")
    except RowError as exc:
        errors.append(exc)
    existing = lead_find_by_email(email)
    if existing is not None and not Lead.objects.filter(pk=existing.pk).restrict(ctx.actor, CHANGE).exists():
        errors.append(RowError("email", "a lead with this email exists and you may not change it"))
    owner = _resolved(ctx.owner, row, "owner_email", errors)
    if owner is not None:
        data["assigned_to"] = owner
        if existing is None or existing.assigned_to_id != owner.pk:
            _judge(assignee_check, errors, actor=ctx.actor, assignee=owner, field="owner_email")
    territory = _resolved(ctx.territory, row, "territory", errors)
    if territory is not None:
        data["territory"] = territory
        if existing is None or existing.territory_id != territory.pk:
            _judge(territory_check, errors, actor=ctx.actor, territory=territory, field="territory")
    try:
        created_at = parse_datetime_cell(row.get("created_at", ""), "created_at", past_only=True)
    except RowError as exc:
        errors.append(exc)
    else:
        if created_at is not None:
            data["created_at"] = created_at
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
    """Create or update each lead through the services (events, history, audit); rows naming no owner are routed."""
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
            services.lead_create(actor=ctx.actor, route="assigned_to" not in data, **data)
            created += 1
    return created, updated


def register() -> None:
    register_import_kind(ImportKind(
        name="leads", label="Leads", columns=COLUMNS, validate_row=validate_row, write_rows=write_rows,
        permission="lead:import", list_url="leads:list",
    ))
