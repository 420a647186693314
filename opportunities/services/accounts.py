"""Writes for accounts: create, update, delete; the duplicate finder used before creating one.

Each write publishes `account.created` / `account.updated` (naming the fields that changed,
only when something did) / `account.deleted`; django-auditlog records the rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from opportunities.models import Account
from salesapp.assignment import assignee_check
from salesapp.changes import apply_changes
from salesapp.events import publish
from salesapp.guards import require_permission
from salesapp.normalize import domain_of, normalize_company
from territories.matching import territory_match_id


def _match_territory(*, country="", state="", postal_code="", industry="", employee_count=None,
                     annual_revenue=None) -> int | None:
    """The id of the winning territory for these attributes, from the territories app's matcher."""
    return territory_match_id({
        "country": country or "",
        "state": state or "",
        "postal_code": postal_code or "",
        "industry": industry or "",
        "employee_count": employee_count,
        "annual_revenue": annual_revenue,
    })


def account_find_match(*, website_domain: str = "", company_name: str = "") -> Account | None:
    """The existing account for a company: same website domain first, else the same normalised name."""
    domain = domain_of(website_domain)
    if domain:
        found = Account.objects.filter(website_domain=domain).order_by("id").first()
        if found:
            return found
    name = normalize_company(company_name)
    if name:
        return Account.objects.filter(normalized_name=name).order_by("id").first()
    return None


def _validate_account(*, name, employee_count, annual_revenue, billing_country) -> None:
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["An account needs a name."]
    if employee_count is not None and int(employee_count) < 0:
        errors["employee_count"] = ["Must not be negative."]
    if annual_revenue is not None and Decimal(annual_revenue) < 0:
        errors["annual_revenue"] = ["Must not be negative."]
    if billing_country and len(billing_country) != 2:
        errors["billing_country"] = ["Use the two-letter ISO country code."]
    if errors:
        raise ValidationError(errors)


def _payload(account: Account, **extra) -> dict:
    return {"account_id": account.pk, "owner_id": account.owner_id, "territory_id": account.territory_id, **extra}


@transaction.atomic
def account_create(
    *,
    actor,
    name: str,
    website_domain: str = "",
    industry: str = "",
    employee_count: int | None = None,
    annual_revenue=None,
    billing_country: str = "",
    billing_state: str = "",
    billing_postal_code: str = "",
    owner=None,
    parent: Account | None = None,
    created_at=None,
    external_id: str = "",
) -> Account:
    """Create an account, owned by `owner` (one the actor may assign to) or by the actor.

    Its territory comes from the territory matcher on its billing address and size.
    """
    require_permission(actor, "opportunity:write")
    _validate_account(name=name, employee_count=employee_count, annual_revenue=annual_revenue,
                      billing_country=billing_country)
    if owner is not None:
        assignee_check(actor=actor, assignee=owner, field="owner_id")
    billing_country = (billing_country or "").upper()
    account = Account(
        external_id=external_id,
        name=name.strip(),
        normalized_name=normalize_company(name),
        website_domain=domain_of(website_domain),
        industry=industry or "",
        employee_count=employee_count,
        annual_revenue=annual_revenue,
        billing_country=billing_country,
        billing_state=billing_state or "",
        billing_postal_code=billing_postal_code or "",
        owner=owner or actor,
        parent=parent,
        territory_id=_match_territory(
            country=billing_country, state=billing_state, postal_code=billing_postal_code, industry=industry,
            employee_count=employee_count, annual_revenue=annual_revenue,
        ),
    )
    if created_at:
        account.created_at = created_at
    account.save()
    publish("account.created", _payload(account), actor=actor)
    return account


UPDATABLE_FIELDS = {"name", "website_domain", "industry", "employee_count", "annual_revenue", "billing_country",
                    "billing_state", "billing_postal_code", "owner", "parent"}
MATCHED_ON = {"billing_country", "billing_state", "billing_postal_code", "industry", "employee_count",
              "annual_revenue"}
_CLEANERS = {"name": str.strip, "website_domain": domain_of, "billing_country": lambda v: (v or "").upper()}


@transaction.atomic
def account_update(*, actor, account: Account, **fields) -> Account:
    """Change an account; a change of address, industry or size re-runs the territory matcher.

    A new owner must be one the actor may assign to. Publishes `account.updated` naming the
    fields whose values changed; an update that changes nothing writes and publishes nothing.
    """
    require_permission(actor, "opportunity:write")
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    merged = {f: fields.get(f, getattr(account, f)) for f in ("name", "employee_count", "annual_revenue",
                                                              "billing_country")}
    _validate_account(**merged)
    if fields.get("owner") is not None and fields["owner"].pk != account.owner_id:
        assignee_check(actor=actor, assignee=fields["owner"], field="owner_id")
    if fields.get("parent") is not None:
        parent = fields["parent"]
        seen = set()
        while parent is not None and parent.pk not in seen:
            if parent.pk == account.pk:
                raise ValidationError({"parent": ["An account cannot be its own parent or ancestor."]})
            seen.add(parent.pk)
            parent = parent.parent
    changed = apply_changes(account, {f: _CLEANERS[f](v) if f in _CLEANERS else v for f, v in fields.items()})
    if set(changed) & MATCHED_ON:
        territory_id = _match_territory(
            country=account.billing_country, state=account.billing_state, postal_code=account.billing_postal_code,
            industry=account.industry, employee_count=account.employee_count, annual_revenue=account.annual_revenue,
        )
        if territory_id != account.territory_id:
            account.territory_id = territory_id
            changed.append("territory")
    if not changed:
        return account
    account.normalized_name = normalize_company(account.name)
    account.save()
    publish("account.updated", _payload(account, fields=changed), actor=actor)
    return account


@transaction.atomic
def account_delete(*, actor, account: Account) -> None:
    """Delete an account that has no opportunities (deals keep their history); its contacts go with it."""
    require_permission(actor, "opportunity:delete")
    if account.opportunities.exists():
        raise ValidationError({"account": ["This account has opportunities; close or move them first."]})
    payload = _payload(account)
    contact_ids = list(account.contacts.values_list("pk", flat=True))
    account.delete()
    publish("account.deleted", payload, actor=actor)
    for contact_id in contact_ids:
        publish("contact.deleted", {"contact_id": contact_id, "account_id": payload["account_id"]}, actor=actor)
