"""CSV imports of `kind=activities` through the kernel's import framework.

Original timestamps (`created_at`, for history carried over from another
CRM) are an admin-only column and may not lie in the future. Times are read
by the kernel's ISO 8601 cell parser (no zone: UTC). Rows are validated with
the same rules as the API before any is written, and each written row goes
through `activity_log` (its `activity.logged` event and audit entry); on
MongoDB a dry run writes nothing at all (the rollback of the SQL transaction
would not undo documents).
"""

from django.core.exceptions import ValidationError

from activities import links, services
from activities.store import get_store
from salesapp import imports as framework

COLUMNS = [
    ("external_id", False, "its id in the system it comes from; a re-import leaves it as it is", False),
    ("type", True, "email, call, meeting, demo or task", False),
    ("subject", False, "", False),
    ("description", False, "", False),
    ("lead_id", False, "", False),
    ("opportunity_id", False, "", False),
    ("account_id", False, "", False),
    ("contact_id", False, "", False),
    ("lead_external_id", False, "the lead, by its external id", False),
    ("lead_email", False, "the lead, by email", False),
    ("opportunity_external_id", False, "the deal, by its external id", False),
    ("account_external_id", False, "the account, by its external id", False),
    ("account_name", False, "the account, by name or domain", False),
    ("contact_external_id", False, "the contact, by its external id", False),
    ("contact_email", False, "the contact, by email", False),
    ("owner_email", False, "whose activity it is; defaults to you", False),
    ("outcome", False, "", False),
    ("duration_minutes", False, "", False),
    ("scheduled_at", False, "ISO 8601; UTC when no zone is given", False),
    ("completed_at", False, "ISO 8601", False),
    ("due_at", False, "ISO 8601", False),
    ("participants", False, "names or emails separated by ;", False),
    ("email_opened", False, "true/false", False),
    ("email_clicked", False, "true/false", False),
    ("call_recording_url", False, "", False),
    ("meeting_notes", False, "", False),
    ("created_at", False, "original time of the record (admins only)", True),
]
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def _int(value: str, column: str):
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise framework.RowError(column, "not a whole number")


def _flag(value: str, column: str):
    lowered = (value or "").strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return None if not lowered else False
    raise framework.RowError(column, "use true or false")


# link id column -> the reference columns that may name the same record, in order
REFERENCES = {
    "lead_id": ("lead_external_id", "lead_email"),
    "opportunity_id": ("opportunity_external_id",),
    "account_id": ("account_external_id", "account_name"),
    "contact_id": ("contact_external_id", "contact_email"),
}


def _linked(row: dict, ctx, column: str):
    """The record id a row links to: its id column, else the first reference column naming it."""
    found = _int(row.get(column, ""), column)
    for reference in REFERENCES[column]:
        if found is None and row.get(reference):
            found = ctx.ref(reference, row[reference])
    return found


def activity_import_prepare(rows: list[dict], ctx) -> None:
    """Look up the batch's linked records in one query per kind (the rows' references are resolved already)."""
    ids: dict[str, set[int]] = {}
    for row in rows:
        for column in REFERENCES:
            try:
                pk = _linked(row, ctx, column)
            except framework.RowError:
                continue  # reported by the row's own validation
            if isinstance(pk, int):
                ids.setdefault(column.removesuffix("_id"), set()).add(pk)
    links.remember_links(user=ctx.actor, ids=ids, memo=ctx.cache.setdefault("activities", {}))


def activity_import_validate(row: dict, ctx) -> dict:
    ctx.claim("external_id", row.get("external_id", ""), "external_id")
    owner = ctx.owner(row["owner_email"], "owner_email") if row.get("owner_email") else None
    metadata = {}
    for key in ("email_opened", "email_clicked"):
        flag = _flag(row.get(key, ""), key)
        if flag is not None:
            metadata[key] = flag
    for key in ("call_recording_url", "meeting_notes"):
        if row.get(key):
            metadata[key] = row[key]
    data = {
        "type": row["type"].strip().lower(),
        "subject": row.get("subject", ""),
        "description": row.get("description", ""),
        **{f: _linked(row, ctx, f) for f in REFERENCES},
        "duration_minutes": _int(row.get("duration_minutes", ""), "duration_minutes"),
        "user_id": owner.pk if owner else None,
        "outcome": row.get("outcome", ""),
        **{f: framework.parse_datetime_cell(row.get(f, ""), f) for f in ("scheduled_at", "completed_at", "due_at")},
        "created_at": framework.parse_datetime_cell(row.get("created_at", ""), "created_at", past_only=True),
        "participants": [p.strip() for p in (row.get("participants") or "").split(";") if p.strip()],
        "metadata": metadata,
    }
    if data["created_at"] is not None and not ctx.is_admin:
        raise framework.RowError("created_at", "only admins may import original timestamps")
    # A record an earlier file of the upload brings is linked once written; until then it is checked unlinked.
    checked = {k: (None if v is framework.PENDING else v) for k, v in data.items()}
    try:
        doc = services.validate_activity(actor=ctx.actor, data=checked, memo=ctx.cache.setdefault("activities", {}))
    except ValidationError as exc:
        errors = [framework.RowError("owner_email" if f == "user_id" else f, m)
                  for f, ms in exc.message_dict.items() for m in ms]
        raise framework.RowErrors(errors)
    return {**doc, "external_id": row.get("external_id", "")}


def activity_import_write(rows: list, ctx) -> tuple[int, int]:
    """Load the checked documents in bulk (the store's batch insert, events and audit in bulk)."""
    if ctx.dry_run and get_store().name != "sql":
        return len(rows), 0
    return services.activities_import(actor=ctx.actor, docs=rows)


def register() -> None:
    """Offer `kind=activities` to the kernel's import framework."""
    framework.register_import_kind(framework.ImportKind(
        name="activities",
        label="Activities",
        columns=[framework.ImportColumn(name, required=req, help=help_text, admin_only=admin_only)
                 for name, req, help_text, admin_only in COLUMNS],
        validate_row=activity_import_validate,
        prepare=activity_import_prepare,
        write_rows=activity_import_write,
        permission="lead:import",
        order=70,
        file_names=("activity",),
    ))


register()
