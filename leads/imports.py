"""The `leads` import kind: CSV rows become leads, or update the lead with the same external id or email.

History from another CRM: a lead may arrive in any status (converted and unqualified too) with the times it
was created, changed and reached that status; a converted lead is linked to the deal that names it
(`lead_external_id` or `lead_email` on the deals file) when the upload ends. Other kinds name leads by the
registered references `lead_external_id` and `lead_email`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from leads import selectors, services
from leads.dedup import find_duplicates, lead_ids_by_email
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
    register_reference,
)
from salesapp.normalize import normalize_email

COLUMNS = [
    ImportColumn("external_id", help="The lead's id in the system it comes from; the same id updates the lead"),
    ImportColumn("email", required=True, help="The lead's email; a lead with the same email is updated"),
    ImportColumn("first_name"), ImportColumn("last_name"), ImportColumn("phone"), ImportColumn("company"),
    ImportColumn("title"), ImportColumn("industry"),
    ImportColumn("employee_count", help="Whole number, not negative"),
    ImportColumn("annual_revenue", help="Number, not negative"),
    ImportColumn("website"), ImportColumn("country", help="ISO 3166 code, e.g. US"), ImportColumn("state"),
    ImportColumn("postal_code"), ImportColumn("source"),
    ImportColumn("status", help="new, contacted, qualified, unqualified or converted (new leads only; "
                                "converted is for admins importing history)"),
    ImportColumn("owner_email", help="Email of the user who owns the lead; empty routes it"),
    ImportColumn("territory", help="Territory name; empty lets the matcher decide"),
    ImportColumn("created_at", admin_only=True, help="Original creation time (ISO 8601), for migrations"),
    ImportColumn("updated_at", admin_only=True, help="Original time of the last change"),
    ImportColumn("status_changed_at", admin_only=True, help="When the lead reached its status"),
    ImportColumn("unqualified_at", admin_only=True, help="When it was disqualified"),
    ImportColumn("converted_at", admin_only=True, help="When it was converted (its deal names it)"),
]
TIME_COLUMNS = ("created_at", "updated_at", "status_changed_at", "unqualified_at", "converted_at")
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


def _judge(check, errors: list[RowError], ctx, **kwargs) -> None:
    """Run an assignment-policy check (once per owner or territory in a file); a refusal becomes a row error on
    the column it names."""
    judged = ctx.cache.setdefault("judged", {})
    key = (check.__name__, *((k, getattr(v, "pk", v)) for k, v in sorted(kwargs.items())))
    if key not in judged:
        try:
            check(**kwargs)
        except ValidationError as exc:
            judged[key] = _row_errors(exc)
        else:
            judged[key] = []
    errors.extend(judged[key])


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
        if status == Lead.Status.CONVERTED and not ctx.is_admin:
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
    external_id = row.get("external_id", "")
    try:
        ctx.claim("external_id", external_id, "external_id")
    except RowError as exc:
        errors.append(exc)
    known = ctx.cache["leads"]
    existing = known.get(("external_id", external_id)) if external_id else known.get(("email", email))
    if existing is not None and existing.pk not in ctx.cache["changeable"]:
        errors.append(RowError("email", "a lead with this email exists and you may not change it"))
    owner = _resolved(ctx.owner, row, "owner_email", errors)
    if owner is not None:
        data["assigned_to"] = owner
        if existing is None or existing.assigned_to_id != owner.pk:
            _judge(assignee_check, errors, ctx, actor=ctx.actor, assignee=owner, field="owner_email")
    territory = _resolved(ctx.territory, row, "territory", errors)
    if territory is not None:
        data["territory"] = territory
        if existing is None or existing.territory_id != territory.pk:
            _judge(territory_check, errors, ctx, actor=ctx.actor, territory=territory, field="territory")
    for column in TIME_COLUMNS:
        try:
            moment = parse_datetime_cell(row.get(column, ""), column, past_only=True)
        except RowError as exc:
            errors.append(exc)
        else:
            if moment is not None:
                data["status_changed_at" if column == "unqualified_at" else column] = moment
    if external_id:
        data["external_id"] = external_id
    if existing is None and not errors and not external_id:
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
    data["_existing"] = existing
    return data


def leads_for_import(rows: list[dict]) -> dict[tuple[str, str], Lead]:
    """The leads a batch of import rows update, by ("external_id", value) or, for rows without one,
    ("email", normalised email): two queries a batch. A system read: the caller checks the importer may
    change them."""
    external = {r["external_id"] for r in rows if r.get("external_id")}
    emails = {r["email"] for r in rows if not r.get("external_id")}
    found: dict[tuple[str, str], Lead] = {("external_id", lead.external_id): lead
                                          for lead in Lead.objects.filter(external_id__in=external)}
    by_email = lead_ids_by_email(emails)
    leads = Lead.objects.in_bulk(by_email.values())
    found.update({("email", email): leads[pk] for email, pk in by_email.items()})
    return found


def prepare(rows: list[dict], ctx) -> None:
    """The leads this batch updates, and which of them the importer may change: three queries a batch."""
    ctx.cache["leads"] = leads_for_import(rows)
    ids = [lead.pk for lead in ctx.cache["leads"].values()]
    ctx.cache["changeable"] = set(Lead.objects.filter(pk__in=ids).restrict(ctx.actor, CHANGE)
                                  .values_list("pk", flat=True)) if ids else set()


def write_rows(rows: list[dict], ctx) -> tuple[int, int]:
    """Create the new leads in bulk (rows naming no owner are routed) and update the known ones."""
    new = [data for data in rows if data["_existing"] is None]
    existing = [(data.pop("_existing"), data) for data in rows if data["_existing"] is not None]
    for data in new:
        data.pop("_existing")
    created, updated = services.leads_import(actor=ctx.actor, new=new, existing=existing)
    ctx.written.setdefault("leads", []).extend(created)
    return len(created), updated


def link_conversions(ctx) -> str:
    """Once every file is in: converted leads of this upload get the deal that names them."""
    linked = services.leads_import_link_conversions(actor=ctx.actor, lead_ids=ctx.written.get("leads", []))
    return f"{linked} converted leads linked to their deals" if linked else ""


def register() -> None:
    register_import_kind(ImportKind(
        name="leads", label="Leads", columns=COLUMNS, validate_row=validate_row, write_rows=write_rows,
        permission="lead:import", list_url="leads:list", order=40, file_names=("lead",),
        provides={"lead_external_id": "external_id", "lead_email": "email"}, finish=link_conversions,
        prepare=prepare,
    ))
    register_reference("lead_external_id", label="lead", what="external id",
                       resolve=lambda values, actor: selectors.lead_ids_by_external_id(values, user=actor))
    register_reference("lead_email", label="lead", what="email", normalize=normalize_email,
                       resolve=lambda values, actor: lead_ids_by_email(values, user=actor))
