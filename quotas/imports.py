"""The `quotas` kind of the shared CSV import (salesapp.imports): same row-level errors as lead import.

Columns: user_email or territory (one of them), period, quota_type (default
revenue), quota_amount, status (default draft). A row for a holder, period and
type that already has a quota changes it.
"""

from django.core.exceptions import PermissionDenied, ValidationError

from quotas import services
from quotas.models import Quota
from salesapp.assignment import assignee_check, territory_check
from salesapp.imports import ImportColumn, ImportKind, RowError, RowErrors, register_import_kind
from salesapp.periods import parse_period


def quota_import_validate(row: dict, ctx) -> dict:
    """One row checked as the service will check it; the person and territory picks under the assignment policy."""
    errors = []
    user = territory = None
    try:
        user = ctx.owner(row.get("user_email", ""), column="user_email")
    except RowError as exc:
        errors.append(exc)
    try:
        territory = ctx.territory(row.get("territory", ""), column="territory")
    except RowError as exc:
        errors.append(exc)
    if not errors and (user is None) == (territory is None):
        errors.append(RowError("user_email", "give either user_email or territory"))
    try:
        period = parse_period(row.get("period", "")).key
    except ValidationError as exc:
        errors.append(RowError("period", exc.message_dict["period"][0]))
        period = None
    quota_type = (row.get("quota_type") or Quota.Type.REVENUE).strip().lower()
    if quota_type not in Quota.Type.values:
        errors.append(RowError("quota_type", f"must be one of {', '.join(Quota.Type.values)}"))
    elif territory is not None and quota_type == Quota.Type.ACTIVITIES:
        errors.append(RowError("quota_type", "territories have revenue and deal quotas only"))
    status = (row.get("status") or Quota.Status.DRAFT).strip().lower()
    if status not in Quota.Status.values:
        errors.append(RowError("status", "must be draft or published"))
    try:
        amount = services._amount(row.get("quota_amount"), "quota_amount")
    except ValidationError as exc:
        errors.append(RowError("quota_amount", exc.message_dict["quota_amount"][0]))
        amount = None
    try:
        assignee_check(actor=ctx.actor, assignee=user, field="user_email")
    except ValidationError as exc:
        errors.append(RowError("user_email", exc.messages[0]))
    try:
        territory_check(actor=ctx.actor, territory=territory, field="territory")
    except ValidationError as exc:
        errors.append(RowError("territory", exc.messages[0]))
    if errors:
        raise RowErrors(errors)
    holder = ("user", user.pk) if user is not None else ("territory", territory.pk)
    ctx.claim("quota", (*holder, period, quota_type), "period")
    return {"user": user, "territory": territory, "period": period, "quota_type": quota_type,
            "quota_amount": amount, "status": status}


def quota_import_write(rows: list, ctx) -> tuple[int, int]:
    created = updated = 0
    for row in rows:
        try:
            _, was_created = services.quota_set(actor=ctx.actor, **row)
        except PermissionDenied as exc:
            raise ValidationError({"user_email": [str(exc)]})
        created += was_created
        updated += not was_created
    return created, updated


def register() -> None:
    register_import_kind(ImportKind(
        name="quotas",
        label="Quotas",
        permission="quota:set",
        columns=[
            ImportColumn("user_email", help="the rep or manager the quota is for"),
            ImportColumn("territory", help="or the territory's name"),
            ImportColumn("period", required=True, help="Q1_2026, 2026-03 or FY2026"),
            ImportColumn("quota_type", help="revenue (default), deals or activities"),
            ImportColumn("quota_amount", required=True),
            ImportColumn("status", help="draft (default) or published"),
        ],
        validate_row=quota_import_validate,
        write_rows=quota_import_write,
    ))
