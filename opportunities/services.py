"""Writes for accounts, contacts, opportunities and forecasts.

Every service is keyword-only, takes the acting user, runs in one transaction
(joining the caller's, so lead conversion can call several in one atomic block),
validates first and publishes its events last.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date

from opportunities.models import (
    Account,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
    StageHistory,
)
from opportunities.periods import parse_period
from salesapp.access import can_write
from salesapp.audit import audit_bulk
from salesapp.events import publish
from salesapp.hierarchy import user_subtree_ids
from salesapp.normalize import domain_of, normalize_company, normalize_email, normalize_phone
from salesapp.roles import Role, perm

OPEN_STAGES = ("discovery", "qualification", "proposal", "negotiation")
WON, LOST = "closed_won", "closed_lost"
BULK_BATCH = 100

# Fields a plain update may change; stage, probability and forecast category go through their rules.
UPDATABLE_FIELDS = {
    "name", "amount", "expected_close_date", "owner", "next_step", "deal_score", "source", "account",
    "stage", "probability", "forecast_category", "contacts", "territory", "close_reason",
}


# --- helpers ---------------------------------------------------------------------------------------

def _require_writer(actor) -> None:
    if not can_write(actor):
        raise PermissionDenied("Your role may not change records.")


def _stage(key) -> Stage:
    if isinstance(key, Stage):
        return key
    try:
        return Stage.objects.get(pk=key)
    except Stage.DoesNotExist:
        raise ValidationError({"stage": [f"Unknown stage {key!r}."]})


def _match_territory(*, country="", state="", postal_code="", industry="", employee_count=None,
                     annual_revenue=None) -> int | None:
    """The id of the winning territory for these attributes, from the territories app's matcher."""
    from territories.selectors import territory_match_id

    return territory_match_id({
        "country": country or "",
        "state": state or "",
        "postal_code": postal_code or "",
        "industry": industry or "",
        "employee_count": employee_count,
        "annual_revenue": annual_revenue,
    })


def default_forecast_category(stage_key: str, probability: int) -> str:
    """Closed won is `closed`, lost is `omitted`; open deals by probability: 75+ commit, 50+ best case, else pipeline."""
    if stage_key == WON:
        return Opportunity.ForecastCategory.CLOSED
    if stage_key == LOST:
        return Opportunity.ForecastCategory.OMITTED
    if probability >= 75:
        return Opportunity.ForecastCategory.COMMIT
    if probability >= 50:
        return Opportunity.ForecastCategory.BEST_CASE
    return Opportunity.ForecastCategory.PIPELINE


def _as_date(value, field="expected_close_date"):
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValidationError({field: ["Enter a date as YYYY-MM-DD."]})
    return parsed


def _days_between(start, end) -> Decimal | None:
    if not start:
        return None
    return Decimal(max((end - start).total_seconds(), 0) / 86400).quantize(Decimal("0.01"))


def _payload(opp: Opportunity, **extra) -> dict:
    """Ids and plain values every opportunity event carries."""
    return {
        "opportunity_id": opp.pk,
        "owner_id": opp.owner_id,
        "account_id": opp.account_id,
        "territory_id": opp.territory_id,
        "stage": opp.stage_id,
        "amount": f"{Decimal(opp.amount):.2f}" if opp.amount is not None else None,
        "probability": opp.probability,
        "expected_close_date": opp.expected_close_date.isoformat() if opp.expected_close_date else None,
        "actual_close_date": opp.actual_close_date.isoformat() if opp.actual_close_date else None,
        **extra,
    }


def _apply_stage(opp: Opportunity, stage: Stage, *, actor, now, note: str = "") -> StageHistory:
    """Move `opp` to `stage` in memory and return the (unsaved) history row for the move."""
    history = StageHistory(
        opportunity=opp,
        from_stage=opp.stage_id or "",
        to_stage=stage.key,
        changed_by=actor if getattr(actor, "pk", None) else None,
        changed_at=now,
        days_in_previous_stage=_days_between(opp.stage_changed_at, now),
        note=note,
    )
    opp.stage = stage
    opp.stage_changed_at = now
    if not opp.probability_is_manual:
        opp.probability = stage.default_probability
    if stage.is_closed or not opp.forecast_category_is_manual:
        opp.forecast_category = default_forecast_category(stage.key, opp.probability)
    return history


# --- accounts and contacts -------------------------------------------------------------------------

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
) -> Account:
    """Create an account; its territory comes from the territory matcher on its billing address and size."""
    _require_writer(actor)
    _validate_account(name=name, employee_count=employee_count, annual_revenue=annual_revenue,
                      billing_country=billing_country)
    billing_country = (billing_country or "").upper()
    account = Account(
        name=name.strip(),
        normalized_name=normalize_company(name),
        website_domain=domain_of(website_domain),
        industry=industry or "",
        employee_count=employee_count,
        annual_revenue=annual_revenue,
        billing_country=billing_country,
        billing_state=billing_state or "",
        billing_postal_code=billing_postal_code or "",
        owner=owner or (actor if getattr(actor, "pk", None) else None),
        parent=parent,
        territory_id=_match_territory(
            country=billing_country, state=billing_state, postal_code=billing_postal_code, industry=industry,
            employee_count=employee_count, annual_revenue=annual_revenue,
        ),
    )
    if created_at:
        account.created_at = created_at
    account.save()
    return account


@transaction.atomic
def account_update(*, actor, account: Account, **fields) -> Account:
    """Change an account; a change of address, industry or size re-runs the territory matcher."""
    _require_writer(actor)
    allowed = {"name", "website_domain", "industry", "employee_count", "annual_revenue", "billing_country",
               "billing_state", "billing_postal_code", "owner", "parent"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in unknown})
    merged = {f: fields.get(f, getattr(account, f)) for f in ("name", "employee_count", "annual_revenue",
                                                              "billing_country")}
    _validate_account(**merged)
    if fields.get("parent") is not None:
        parent = fields["parent"]
        seen = set()
        while parent is not None and parent.pk not in seen:
            if parent.pk == account.pk:
                raise ValidationError({"parent": ["An account cannot be its own parent or ancestor."]})
            seen.add(parent.pk)
            parent = parent.parent
    cleaners = {"website_domain": domain_of, "billing_country": lambda v: (v or "").upper()}
    for field, value in fields.items():
        setattr(account, field, cleaners.get(field, lambda v: v)(value))
    account.normalized_name = normalize_company(account.name)
    if set(fields) & {"billing_country", "billing_state", "billing_postal_code", "industry", "employee_count",
                      "annual_revenue"}:
        account.territory_id = _match_territory(
            country=account.billing_country, state=account.billing_state, postal_code=account.billing_postal_code,
            industry=account.industry, employee_count=account.employee_count, annual_revenue=account.annual_revenue,
        )
    account.save()
    return account


@transaction.atomic
def account_delete(*, actor, account: Account) -> None:
    """Delete an account that has no opportunities (deals keep their history)."""
    if not actor.has_perm(perm("opportunity:delete")):
        raise PermissionDenied("Deleting accounts needs opportunity:delete.")
    if account.opportunities.exists():
        raise ValidationError({"account": ["This account has opportunities; close or move them first."]})
    account.delete()


def contact_find_match(*, account: Account | None = None, email: str = "", phone: str = "") -> Contact | None:
    """A likely duplicate contact: same normalised email anywhere, or same phone at the same account."""
    email = normalize_email(email)
    if email:
        found = Contact.objects.filter(email__iexact=email).order_by("id").first()
        if found:
            return found
    phone = normalize_phone(phone)
    if phone and account is not None:
        return Contact.objects.filter(account=account, normalized_phone=phone).order_by("id").first()
    return None


@transaction.atomic
def contact_create(
    *,
    actor,
    account: Account,
    first_name: str = "",
    last_name: str,
    email: str = "",
    phone: str = "",
    title: str = "",
    buying_role: str = "",
    owner=None,
) -> Contact:
    """Create a contact at an account."""
    _require_writer(actor)
    errors = {}
    if not (last_name or "").strip():
        errors["last_name"] = ["A contact needs a last name."]
    if buying_role and buying_role not in Contact.BuyingRole.values:
        errors["buying_role"] = [f"Unknown buying role {buying_role!r}."]
    if errors:
        raise ValidationError(errors)
    contact = Contact(
        account=account,
        first_name=(first_name or "").strip(),
        last_name=last_name.strip(),
        email=normalize_email(email),
        phone=(phone or "").strip(),
        normalized_phone=normalize_phone(phone),
        title=title or "",
        buying_role=buying_role or "",
        owner=owner or account.owner or (actor if getattr(actor, "pk", None) else None),
    )
    contact.full_clean(exclude=["account", "owner"])
    contact.save()
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, **fields) -> Contact:
    """Change a contact."""
    _require_writer(actor)
    allowed = {"account", "first_name", "last_name", "email", "phone", "title", "buying_role", "owner"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in unknown})
    for field, value in fields.items():
        setattr(contact, field, normalize_email(value) if field == "email" else value)
    contact.normalized_phone = normalize_phone(contact.phone)
    contact.full_clean(exclude=["account", "owner"])
    contact.save()
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    _require_writer(actor)
    contact.delete()


# --- opportunities ---------------------------------------------------------------------------------

def _validate_amount(amount, field="amount"):
    if amount is not None and Decimal(amount) < 0:
        raise ValidationError({field: ["Must not be negative."]})


@transaction.atomic
def opportunity_create(
    *,
    actor,
    account: Account,
    name: str,
    owner,
    amount=None,
    expected_close_date=None,
    lead_id: int | None = None,
    stage: str = "discovery",
    source: str = "",
    contacts=(),
    next_step: str = "",
    probability: int | None = None,
    forecast_category: str = "",
    territory=None,
    deal_score: int | None = None,
    created_at=None,
) -> Opportunity:
    """Open a deal on an account in an open stage; it takes the account's territory and the stage's probability."""
    _require_writer(actor)
    stage_obj = _stage(stage)
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["An opportunity needs a name."]
    if owner is None:
        errors["owner"] = ["An opportunity needs an owner."]
    if stage_obj.is_closed:
        errors["stage"] = ["A new opportunity starts in an open stage; close it with the close action."]
    if probability is not None and not 0 <= int(probability) <= 100:
        errors["probability"] = ["Must be between 0 and 100."]
    if forecast_category and forecast_category not in Opportunity.ForecastCategory.values:
        errors["forecast_category"] = [f"Unknown forecast category {forecast_category!r}."]
    if deal_score is not None and not 0 <= int(deal_score) <= 100:
        errors["deal_score"] = ["Must be between 0 and 100."]
    if errors:
        raise ValidationError(errors)
    _validate_amount(amount)
    contacts = list(contacts)
    foreign = [c for c in contacts if c.account_id != account.pk]
    if foreign:
        raise ValidationError({"contacts": ["Contacts must belong to the opportunity's account."]})
    now = created_at or timezone.now()
    opp = Opportunity(
        name=name.strip(),
        account=account,
        lead_id=lead_id,
        owner=owner,
        amount=amount,
        expected_close_date=_as_date(expected_close_date),
        source=source or "",
        next_step=next_step or "",
        territory_id=territory.pk if territory is not None else account.territory_id,
        deal_score=deal_score,
        created_at=now,
    )
    if probability is not None:
        opp.probability = int(probability)
        opp.probability_is_manual = True
    if forecast_category:
        opp.forecast_category = forecast_category
        opp.forecast_category_is_manual = True
    history = _apply_stage(opp, stage_obj, actor=actor, now=now, note="created")
    opp.save()
    history.opportunity = opp
    history.save()
    if contacts:
        opp.contacts.set(contacts)
    publish("opportunity.created", _payload(opp, lead_id=lead_id), actor=actor)
    return opp


def _move(opp: Opportunity, stage: Stage, *, actor, now, note: str = "") -> StageHistory:
    """Validate and apply one stage move of an open deal (closing has its own workflow)."""
    if opp.stage.is_closed:
        raise ValidationError({"stage": ["This deal is closed; reopen it before changing its stage."]})
    if stage.is_closed:
        raise ValidationError({"stage": ["Close a deal with the close action, which asks for its outcome and reason."]})
    return _apply_stage(opp, stage, actor=actor, now=now, note=note)


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, **fields) -> Opportunity:
    """Change a deal. A stage move writes history and follows the stage rules; a probability
    set by hand sticks (pass `probability=None` to follow the stage again); only the owner
    (or an admin) overrides the forecast category.
    """
    _require_writer(actor)
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    opp = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    before = {"stage": opp.stage_id, "owner_id": opp.owner_id, "amount": opp.amount}
    # A PUT sends back what it read: an unchanged value is not a choice made by hand.
    if "probability" in fields and fields["probability"] is not None and not opp.probability_is_manual \
            and int(fields["probability"]) == opp.probability:
        del fields["probability"]
    if fields.get("forecast_category") and fields["forecast_category"] == opp.forecast_category and (
            opp.forecast_category_is_manual or actor.pk != opp.owner_id):
        del fields["forecast_category"]
    errors = {}
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = ["An opportunity needs a name."]
    if "owner" in fields and fields["owner"] is None:
        errors["owner"] = ["An opportunity needs an owner."]
    if "probability" in fields and fields["probability"] is not None and not 0 <= int(fields["probability"]) <= 100:
        errors["probability"] = ["Must be between 0 and 100."]
    if "deal_score" in fields and fields["deal_score"] is not None and not 0 <= int(fields["deal_score"]) <= 100:
        errors["deal_score"] = ["Must be between 0 and 100."]
    category = fields.get("forecast_category")
    if category:
        if category not in Opportunity.ForecastCategory.values:
            errors["forecast_category"] = [f"Unknown forecast category {category!r}."]
        elif actor.pk != opp.owner_id and actor.role != Role.ADMIN:
            errors["forecast_category"] = ["Only the deal's owner sets its forecast category."]
        elif opp.stage.is_closed:
            errors["forecast_category"] = ["A closed deal's category follows its outcome."]
    if errors:
        raise ValidationError(errors)
    if "amount" in fields:
        _validate_amount(fields["amount"])
    if "expected_close_date" in fields:
        fields["expected_close_date"] = _as_date(fields["expected_close_date"])
    if opp.stage.is_closed and "amount" in fields and opp.stage_id == WON and not fields["amount"]:
        raise ValidationError({"amount": ["A won deal needs an amount."]})
    account_id = fields["account"].pk if fields.get("account") is not None else opp.account_id
    if "contacts" in fields and any(c.account_id != account_id for c in fields["contacts"]):
        raise ValidationError({"contacts": ["Contacts must belong to the opportunity's account."]})

    now = timezone.now()
    history = None
    for field in ("name", "amount", "expected_close_date", "owner", "next_step", "deal_score", "source",
                  "account", "territory", "close_reason"):
        if field in fields:
            setattr(opp, field, fields[field].strip() if field == "name" else fields[field])
    if "probability" in fields:
        if fields["probability"] is None:
            opp.probability_is_manual = False
            opp.probability = opp.stage.default_probability
        else:
            opp.probability = int(fields["probability"])
            opp.probability_is_manual = True
    if "forecast_category" in fields:
        if category:
            opp.forecast_category = category
            opp.forecast_category_is_manual = True
        else:
            opp.forecast_category_is_manual = False
    new_stage = _stage(fields["stage"]) if fields.get("stage") else None
    if new_stage is not None and new_stage.key != opp.stage_id:
        history = _move(opp, new_stage, actor=actor, now=now)
    elif not opp.forecast_category_is_manual and not opp.stage.is_closed:
        opp.forecast_category = default_forecast_category(opp.stage_id, opp.probability)
    opp.save()
    if "contacts" in fields:
        opp.contacts.set(fields["contacts"])
    if history is not None:
        history.save()
        publish("opportunity.stage_changed",
                _payload(opp, from_stage=history.from_stage, to_stage=history.to_stage,
                         previous_stage=history.from_stage), actor=actor)
    elif before["owner_id"] != opp.owner_id or before["amount"] != opp.amount:
        # Owner and amount feed the pipeline and forecasts: let their caches know.
        publish("opportunity.stage_changed",
                _payload(opp, from_stage=opp.stage_id, to_stage=opp.stage_id, previous_stage=opp.stage_id,
                         previous_owner_id=before["owner_id"]), actor=actor)
    opportunity.__dict__.update({k: v for k, v in opp.__dict__.items() if not k.startswith("_")})
    opportunity._state.fields_cache = {}
    return opp


def _loss_reason(reason) -> LossReason | None:
    if isinstance(reason, LossReason):
        return reason
    if reason in (None, ""):
        return None
    qs = LossReason.objects.filter(is_active=True)
    if isinstance(reason, int) or (isinstance(reason, str) and reason.isdigit()):
        found = qs.filter(pk=int(reason)).first()
    else:
        found = qs.filter(name__iexact=str(reason).strip()).first()
    if found is None:
        names = ", ".join(qs.values_list("name", flat=True))
        raise ValidationError({"reason": [f"Unknown loss reason {reason!r}; choose one of: {names}."]})
    return found


@transaction.atomic
def opportunity_close(
    *,
    actor,
    opportunity: Opportunity,
    outcome: str,
    reason=None,
    note: str = "",
    amount=None,
    close_date: dt.date | None = None,
) -> Opportunity:
    """Close a deal. Won needs an amount and sets `actual_close_date`; lost needs a loss reason
    from the admin-managed list. Publishes the stage change and `opportunity.won` / `opportunity.lost`.
    `close_date` lets imports carry a deal's original close date.
    """
    _require_writer(actor)
    if outcome not in ("won", "lost"):
        raise ValidationError({"outcome": ["Outcome must be 'won' or 'lost'."]})
    opp = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    if opp.stage.is_closed:
        raise ValidationError({"outcome": [f"This deal is already {opp.stage.label.lower()}; reopen it first."]})
    if amount is not None:
        _validate_amount(amount)
        opp.amount = amount
    loss_reason = None
    if outcome == "won":
        if not opp.amount:
            raise ValidationError({"amount": ["A won deal needs an amount."]})
        if reason and not isinstance(reason, LossReason):
            opp.close_reason = str(reason)
    else:
        if reason in (None, ""):
            raise ValidationError({"reason": ["A lost deal needs a loss reason."]})
        loss_reason = _loss_reason(reason)
    if note:
        opp.close_reason = note
    now = timezone.now()
    stage = _stage(WON if outcome == "won" else LOST)
    if close_date is not None:
        when = dt.datetime.combine(close_date, dt.time(12), tzinfo=dt.UTC)
        now = min(now, max(when, opp.stage_changed_at or when))
    history = _apply_stage(opp, stage, actor=actor, now=now, note=outcome)
    opp.probability = stage.default_probability
    opp.probability_is_manual = False
    opp.forecast_category_is_manual = False
    opp.actual_close_date = close_date or timezone.localdate()
    opp.loss_reason = loss_reason
    opp.save()
    history.save()
    payload = _payload(opp, from_stage=history.from_stage, to_stage=history.to_stage, previous_stage=history.from_stage)
    publish("opportunity.stage_changed", payload, actor=actor)
    if outcome == "won":
        publish("opportunity.won", payload, actor=actor)
    else:
        publish("opportunity.lost", {**payload, "loss_reason": loss_reason.name}, actor=actor)
    opportunity.__dict__.update({k: v for k, v in opp.__dict__.items() if not k.startswith("_")})
    opportunity._state.fields_cache = {}
    return opp


@transaction.atomic
def opportunity_reopen(*, actor, opportunity: Opportunity, stage: str | None = None) -> Opportunity:
    """Reopen a closed deal (admins and sales managers only) into the stage it closed from.

    The reopen is recorded as a stage-history row and `opportunity.reopened`, whose payload
    carries the former close date and stage so attainment can be taken back.
    """
    if not actor.has_perm(perm("opportunity:delete")):
        raise PermissionDenied("Reopening a closed deal needs opportunity:delete rights (admin or sales manager).")
    opp = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    if not opp.stage.is_closed:
        raise ValidationError({"stage": ["This deal is open."]})
    if stage:
        target = _stage(stage)
    else:
        last_open = (
            StageHistory.objects.filter(opportunity=opp, to_stage=opp.stage_id, from_stage__in=OPEN_STAGES)
            .order_by("-changed_at").values_list("from_stage", flat=True).first()
        )
        target = _stage(last_open or "negotiation")
    if target.is_closed:
        raise ValidationError({"stage": ["Reopen into an open stage."]})
    closed_stage, closed_on = opp.stage_id, opp.actual_close_date
    now = timezone.now()
    history = _apply_stage(opp, target, actor=actor, now=now, note="reopened")
    opp.actual_close_date = None
    opp.loss_reason = None
    opp.save()
    history.save()
    payload = _payload(
        opp, from_stage=closed_stage, to_stage=target.key, previous_stage=closed_stage,
        actual_close_date=closed_on.isoformat() if closed_on else None,
    )
    publish("opportunity.stage_changed", payload, actor=actor)
    publish("opportunity.reopened", payload, actor=actor)
    opportunity.__dict__.update({k: v for k, v in opp.__dict__.items() if not k.startswith("_")})
    opportunity._state.fields_cache = {}
    return opp


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity) -> None:
    """Delete a deal (admins and sales managers)."""
    if not actor.has_perm(perm("opportunity:delete")):
        raise PermissionDenied("Deleting opportunities needs opportunity:delete.")
    payload = _payload(opportunity, from_stage=opportunity.stage_id, to_stage=opportunity.stage_id)
    opportunity.delete()
    # No catalogue event for deletion; a stage_changed to the same stage refreshes pipeline caches.
    publish("opportunity.stage_changed", {**payload, "deleted": True}, actor=actor)


def opportunity_bulk_stage(*, actor, ids, stage: str, visible=None) -> dict:
    """Move many open deals to one open stage, in batches of 100 (one transaction each).

    Each deal gets its stage-history row, its `opportunity.stage_changed` event and an audit
    entry. `visible` is the queryset the actor may change (the caller's `restrict()`); ids
    outside it, closed deals and unknown ids are reported, not moved.
    Returns {"updated": [ids], "unchanged": [ids], "errors": {id: message}}.
    """
    _require_writer(actor)
    target = _stage(stage)
    if target.is_closed:
        raise ValidationError({"stage": ["Bulk moves go to open stages; close deals one by one."]})
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationError({"ids": ["Give a list of opportunity ids."]})
    if not ids:
        raise ValidationError({"ids": ["Give at least one opportunity id."]})
    base = visible if visible is not None else Opportunity.objects.all()
    result = {"updated": [], "unchanged": [], "errors": {}}
    for offset in range(0, len(ids), BULK_BATCH):
        batch = ids[offset:offset + BULK_BATCH]
        with transaction.atomic():
            opps = {o.pk: o for o in base.filter(pk__in=batch).select_related("stage").select_for_update(of=("self",))}
            histories, changed, audit = [], [], {}
            now = timezone.now()
            for pk in batch:
                opp = opps.get(pk)
                if opp is None:
                    result["errors"][pk] = "Not found."
                    continue
                if opp.stage.is_closed:
                    result["errors"][pk] = "Closed; reopen it first."
                    continue
                if opp.stage_id == target.key:
                    result["unchanged"].append(pk)
                    continue
                old = opp.stage_id
                histories.append(_apply_stage(opp, target, actor=actor, now=now, note="bulk"))
                changed.append(opp)
                audit[pk] = {"stage": [old, target.key]}
            if changed:
                for opp in changed:
                    opp.updated_at = now
                Opportunity.objects.bulk_update(
                    changed, ["stage", "stage_changed_at", "probability", "forecast_category", "updated_at"]
                )
                StageHistory.objects.bulk_create(histories)
                audit_bulk(Opportunity, audit, actor=actor)
                for opp, history in zip(changed, histories, strict=True):
                    publish("opportunity.stage_changed",
                            _payload(opp, from_stage=history.from_stage, to_stage=history.to_stage,
                                     previous_stage=history.from_stage, bulk=True), actor=actor)
                    result["updated"].append(opp.pk)
    return result


def opportunity_touch_activity(*, opportunity_id=None, account_id=None, occurred_at) -> None:
    """Move `last_activity_at` forward (never back) on the deal and account an activity touched."""
    newer = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=occurred_at)
    if opportunity_id:
        Opportunity.objects.filter(newer, pk=opportunity_id).update(last_activity_at=occurred_at)
    if account_id:
        Account.objects.filter(newer, pk=account_id).update(last_activity_at=occurred_at)


# --- stages ----------------------------------------------------------------------------------------

@transaction.atomic
def stage_update(*, actor, stage: Stage, default_probability: int | None = None, label: str | None = None) -> Stage:
    """Admins change a stage's default probability; open deals that follow the stage follow it too."""
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only admins change stages.")
    if default_probability is not None:
        if not 0 <= int(default_probability) <= 100:
            raise ValidationError({"default_probability": ["Must be between 0 and 100."]})
        stage.default_probability = int(default_probability)
        if not stage.is_closed:
            Opportunity.objects.filter(stage=stage, probability_is_manual=False).update(
                probability=stage.default_probability
            )
    if label:
        stage.label = label
    stage.save()
    return stage


# --- forecasts -------------------------------------------------------------------------------------

def _money(value, field):
    try:
        value = Decimal(str(value))
    except Exception:
        raise ValidationError({field: ["Enter an amount."]})
    if value < 0:
        raise ValidationError({field: ["Must not be negative."]})
    return value


@transaction.atomic
def forecast_submit(*, actor, period: str, commit, best_case, notes: str = "", submitted_at=None) -> ForecastSubmission:
    """Record the actor's forecast call for a period (their own deals, or their subtree for managers)."""
    _require_writer(actor)
    p = parse_period(period)
    commit = _money(commit, "commit")
    best_case = _money(best_case, "best_case")
    if best_case < commit:
        raise ValidationError({"best_case": ["Best case cannot be below commit."]})
    return ForecastSubmission.objects.create(
        user=actor, period=p.name, commit=commit, best_case=best_case, notes=notes or "",
        submitted_at=submitted_at or timezone.now(),
    )


@transaction.atomic
def forecast_adjust(*, actor, user, period: str, category: str, amount, reason: str) -> ForecastAdjustment:
    """A manager overrides a report's commit or best case for a period, with a reason.

    Only users with forecast:adjust may, and only for people below them (admins: anyone).
    The adjustment replaces that person's figure (their subtree's, for a manager) in every roll-up above.
    """
    if not actor.has_perm(perm("forecast:adjust")):
        raise PermissionDenied("Adjusting forecasts needs forecast:adjust.")
    p = parse_period(period)
    errors = {}
    if category not in ForecastAdjustment.Category.values:
        errors["category"] = ["Adjust 'commit' or 'best_case'."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why you adjust the forecast."]
    if actor.role != Role.ADMIN and (user.pk == actor.pk or user.pk not in user_subtree_ids(actor.pk)):
        errors["user"] = ["You can adjust only the forecasts of people who report to you."]
    if errors:
        raise ValidationError(errors)
    return ForecastAdjustment.objects.create(
        user=user, period=p.name, category=category, amount=_money(amount, "amount"), reason=reason.strip(),
        adjusted_by=actor,
    )


def forecast_snapshot_take(*, today: dt.date | None = None, period_names=None) -> int:
    """Store this week's roll-up of every seller and manager (idempotent within a week).

    Each active writer gets a personal snapshot; people with reports also get a team one.
    Defaults to the current quarter and month.
    """
    from opportunities.periods import month_of, quarter_of, week_start
    from opportunities.selectors import forecast_rollup
    from salesapp.models import User

    today = today or timezone.localdate()
    names = period_names or [quarter_of(today).name, month_of(today).name]
    week = week_start(today)
    admin_view = User(role=Role.ADMIN, is_active=True)
    users = list(User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN])
                 .values("id", "manager_id"))
    managers = {u["manager_id"] for u in users if u["manager_id"]}
    count = 0
    for name in names:
        for u in users:
            rollup = forecast_rollup(admin_view, name, user_id=u["id"])
            total = rollup["total"]
            scopes = [("personal", rollup["rows"][0] if rollup["rows"] else total)]
            if u["id"] in managers:
                scopes.append(("team", total))
            for scope, figures in scopes:
                ForecastSnapshot.objects.update_or_create(
                    user_id=u["id"], scope=scope, period=name, week_start=week,
                    defaults={
                        "closed_won": figures["closed_won"], "commit": figures["commit"],
                        "best_case": figures["best_case"], "pipeline": figures["pipeline"],
                        "weighted": figures["weighted"], "adjusted_commit": figures["adjusted_commit"],
                        "adjusted_best_case": figures["adjusted_best_case"], "taken_at": timezone.now(),
                    },
                )
                count += 1
    return count
