"""Writes for leads: capture, qualification, routing, scoring, merge and conversion.

Every service is keyword-only, takes the acting user (None only for public
web-to-lead submissions), runs in one transaction, validates first and
publishes its events last.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import pycountry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from leads import routing, workflow
from leads.models import Lead, LeadHistory
from leads.scoring import score_lead
from salesapp.access import can_write
from salesapp.events import publish
from salesapp.normalize import domain_of, normalize_company, normalize_email, normalize_phone
from salesapp.roles import perm

S = Lead.Status
TEXT_FIELDS = ("source", "first_name", "last_name", "email", "phone", "company", "title", "industry", "website",
               "country", "state", "postal_code")
EDITABLE_FIELDS = {*TEXT_FIELDS, "employee_count", "annual_revenue", "assigned_to", "territory"}
ROUTING_FIELDS = ("country", "state", "postal_code", "industry", "employee_count", "annual_revenue")
MERGE_FIELDS = ("first_name", "last_name", "phone", "company", "title", "industry", "employee_count",
                "annual_revenue", "website", "country", "state", "postal_code", "source")


# --- validation ----------------------------------------------------------------------------------

def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code from alpha-2, alpha-3 or the English name; ValueError if unknown."""
    value = (value or "").strip()
    if not value:
        return ""
    found = None
    if len(value) == 2:
        found = pycountry.countries.get(alpha_2=value.upper())
    elif len(value) == 3:
        found = pycountry.countries.get(alpha_3=value.upper())
    if found is None and len(value) > 3:
        try:
            found = pycountry.countries.lookup(value)
        except LookupError:
            found = None
    if found is None:
        raise ValueError(f"{value!r} is not an ISO 3166 country code.")
    return found.alpha_2


def clean_lead_fields(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise lead input; raises ValidationError with every bad field named."""
    errors: dict[str, list[str]] = {}
    out = dict(data)
    unknown = set(out) - EDITABLE_FIELDS - {"status", "created_at"}
    for name in unknown:
        errors[name] = ["Unknown lead field."]
    for name in TEXT_FIELDS:
        if name in out:
            out[name] = "" if out[name] is None else str(out[name]).strip()
            limit = Lead._meta.get_field(name).max_length
            if limit and len(out[name]) > limit and name != "country":
                errors[name] = [f"At most {limit} characters."]
    if not partial or "email" in out:
        email = out.get("email", "")
        if not email:
            errors["email"] = ["An email address is required."]
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors["email"] = ["Enter a valid email address."]
    if out.get("country"):
        try:
            out["country"] = country_code(out["country"])
        except ValueError as exc:
            errors["country"] = [str(exc)]
    if out.get("state"):
        out["state"] = out["state"].upper() if len(out["state"]) <= 3 else out["state"]
    if out.get("website"):
        site = out["website"] if "://" in out["website"] else f"https://{out['website']}"
        try:
            URLValidator(schemes=["http", "https"])(site)
        except ValidationError:
            errors["website"] = ["Enter a valid website address."]
    if "employee_count" in out:
        value = out["employee_count"]
        if value in ("", None):
            out["employee_count"] = None
        else:
            try:
                out["employee_count"] = int(str(value).replace(",", ""))
                if out["employee_count"] < 0:
                    errors["employee_count"] = ["Must not be negative."]
            except ValueError:
                errors["employee_count"] = ["Enter a whole number."]
    if "annual_revenue" in out:
        value = out["annual_revenue"]
        if value in ("", None):
            out["annual_revenue"] = None
        else:
            try:
                out["annual_revenue"] = Decimal(str(value).replace(",", ""))
                if not out["annual_revenue"].is_finite():
                    raise InvalidOperation
                if out["annual_revenue"] < 0:
                    errors["annual_revenue"] = ["Must not be negative."]
                elif out["annual_revenue"] >= Decimal("1e14"):
                    errors["annual_revenue"] = ["Too large."]
            except InvalidOperation:
                errors["annual_revenue"] = ["Enter a number."]
    if "status" in out and out["status"] not in S.values:
        errors["status"] = [f"Unknown status {out['status']!r}."]
    owner = out.get("assigned_to")
    if owner is not None and not owner.is_active:
        errors["assigned_to"] = ["This user is inactive and cannot receive leads."]
    if errors:
        raise ValidationError(errors)
    return out


def _require_writer(actor) -> None:
    if not can_write(actor):
        raise PermissionDenied("Your role may not change leads.")


def _normalise(lead: Lead) -> None:
    lead.normalized_email = normalize_email(lead.email)
    lead.normalized_phone = normalize_phone(lead.phone)
    lead.normalized_company = normalize_company(lead.company)


def _history(lead: Lead, kind: str, *, actor=None, from_value="", to_value="", detail="", at=None) -> LeadHistory:
    return LeadHistory.objects.create(
        lead=lead, kind=kind, from_value=str(from_value or "")[:200], to_value=str(to_value or "")[:200],
        detail=detail, actor=actor if getattr(actor, "pk", None) else None, created_at=at or timezone.now(),
    )


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user else "nobody"


def _apply_score(lead: Lead, *, actor=None, record: bool = True) -> bool:
    result = score_lead(lead)
    changed = result.score != lead.score
    if changed and record and lead.pk:
        _history(lead, LeadHistory.Kind.SCORED, actor=actor, from_value=lead.score, to_value=result.score,
                 detail=f"{result.model}: " + ", ".join(f["detail"] for f in result.factors))
    lead.score, lead.score_model, lead.score_factors = result.score, result.model, result.factors
    return changed


def _assigned_payload(lead: Lead) -> dict:
    return {"lead_id": lead.pk, "assigned_to": lead.assigned_to_id, "territory_id": lead.territory_id,
            "reason": lead.assignment_reason, "queue": lead.queue}


# --- capture ---------------------------------------------------------------------------------------

@transaction.atomic
def lead_create(*, actor, route: bool = True, **fields) -> Lead:
    """Capture a lead: validate, score, route to a territory and owner, publish lead.created and lead.assigned."""
    if actor is not None:
        _require_writer(actor)
    data = clean_lead_fields(fields)
    created_at = data.pop("created_at", None)
    status = data.pop("status", S.NEW) or S.NEW
    owner = data.pop("assigned_to", None)
    territory = data.pop("territory", None)
    now = timezone.now()
    lead = Lead(status=status, **data)
    if created_at:
        lead.created_at = created_at
    _normalise(lead)
    _apply_score(lead, record=False)
    decision = routing.route(lead, now=now) if route and owner is None else None
    if decision is not None:
        lead.territory = territory or decision.territory
        lead.assigned_to = decision.owner
        lead.assignment_reason = decision.reason
        lead.queue = decision.queue
    else:
        lead.territory = territory
        if territory is None and route:
            lead.territory = routing.route_territory_only(lead)
        lead.assigned_to = owner
        if owner is not None:
            lead.assignment_reason = f"assigned by {_person(actor)} when the lead was created"
    if lead.assigned_to_id:
        lead.assigned_at = now
    lead.save()
    _history(lead, LeadHistory.Kind.CREATED, actor=actor, to_value=lead.status,
             detail=f"source {lead.source or 'unknown'}; score {lead.score}", at=lead.created_at)
    if lead.assigned_to_id or lead.queue:
        _history(lead, LeadHistory.Kind.ASSIGNED, actor=actor, to_value=_person(lead.assigned_to) if lead.assigned_to
                 else lead.queue, detail=lead.assignment_reason, at=now)
    publish("lead.created", {"lead_id": lead.pk, "source": lead.source, "status": lead.status,
                             "assigned_to": lead.assigned_to_id, "territory_id": lead.territory_id}, actor=actor)
    publish("lead.assigned", _assigned_payload(lead), actor=actor)
    return lead


@transaction.atomic
def lead_update(*, actor, lead: Lead, **fields) -> Lead:
    """Change a lead's details (not its status: that goes through the transitions); re-scores it."""
    _require_writer(actor)
    if "status" in fields and fields["status"] != lead.status:
        raise ValidationError({"status": ["Change the status with the qualify, disqualify, contact or reopen actions."]})
    fields.pop("status", None)
    fields.pop("created_at", None)
    data = clean_lead_fields(fields, partial=True)
    owner_given = "assigned_to" in data
    new_owner = data.pop("assigned_to", None)
    for name, value in data.items():
        setattr(lead, name, value)
    _normalise(lead)
    _apply_score(lead, actor=actor)
    lead.save()
    if owner_given and (new_owner.pk if new_owner else None) != lead.assigned_to_id:
        _assign(lead, new_owner, actor=actor, reason=f"reassigned by {_person(actor)}")
    return lead


def _assign(lead: Lead, owner, *, actor, reason: str, territory=..., queue: str = "") -> None:
    previous = lead.assigned_to
    lead.assigned_to = owner
    lead.assigned_at = timezone.now() if owner else None
    lead.assignment_reason = reason
    lead.queue = queue
    fields = ["assigned_to", "assigned_at", "assignment_reason", "queue", "updated_at"]
    if territory is not ...:
        lead.territory = territory
        fields.append("territory")
    lead.save(update_fields=fields)
    _history(lead, LeadHistory.Kind.ASSIGNED, actor=actor, from_value=_person(previous) if previous else "",
             to_value=_person(owner) if owner else queue, detail=reason)
    publish("lead.assigned", _assigned_payload(lead), actor=actor)


@transaction.atomic
def lead_assign(*, actor, lead: Lead, owner, note: str = "") -> Lead:
    """Hand a lead to a user by hand; the reason names who did it."""
    _require_writer(actor)
    if owner is None or not owner.is_active:
        raise ValidationError({"assigned_to": ["Choose an active user."]})
    if lead.status == S.CONVERTED:
        raise ValidationError({"assigned_to": ["A converted lead is not reassigned; its opportunity has the owner."]})
    reason = f"assigned by {_person(actor)}" + (f": {note}" if note else "")
    _assign(lead, owner, actor=actor, reason=reason)
    return lead


@transaction.atomic
def lead_route(*, actor, lead: Lead) -> Lead:
    """Route a lead again: territory from the matcher, owner by the territory's policy."""
    if actor is not None:
        _require_writer(actor)
    if lead.status == S.CONVERTED:
        raise ValidationError({"assigned_to": ["A converted lead is not routed again."]})
    decision = routing.route(lead)
    _assign(lead, decision.owner, actor=actor, reason=decision.reason, territory=decision.territory,
            queue=decision.queue)
    return lead


@transaction.atomic
def lead_transition(*, actor, lead: Lead, to_status: str, note: str = "") -> Lead:
    """Move a lead along the state machine; conversion has its own service."""
    _require_writer(actor)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    workflow.check_transition(lead.status, to_status)
    if to_status == S.CONVERTED:
        raise ValidationError({"status": ["Convert a lead with the convert action, which creates its account, "
                                          "contact and opportunity."]})
    previous = lead.status
    lead.status = to_status
    lead.save(update_fields=["status", "updated_at"])
    _history(lead, LeadHistory.Kind.STATUS, actor=actor, from_value=previous, to_value=to_status, detail=note)
    if to_status == S.QUALIFIED:
        publish("lead.qualified", {"lead_id": lead.pk, "assigned_to": lead.assigned_to_id, "score": lead.score},
                actor=actor)
    return lead


def lead_qualify(*, actor, lead: Lead, note: str = "") -> Lead:
    return lead_transition(actor=actor, lead=lead, to_status=S.QUALIFIED, note=note)


def lead_disqualify(*, actor, lead: Lead, note: str = "") -> Lead:
    return lead_transition(actor=actor, lead=lead, to_status=S.UNQUALIFIED, note=note)


@transaction.atomic
def lead_delete(*, actor, lead: Lead) -> None:
    if not actor.has_perm(perm("lead:delete")):
        raise PermissionDenied("Your role may not delete leads.")
    lead.delete()


# --- scoring and engagement -------------------------------------------------------------------------

@transaction.atomic
def lead_rescore(*, lead: Lead, actor=None) -> Lead:
    """Recompute the score (after its activities or the scorer changed)."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if _apply_score(lead, actor=actor):
        lead.save(update_fields=["score", "score_model", "score_factors", "updated_at"])
    elif lead.score_model != score_lead(lead).model:
        lead.save(update_fields=["score_model", "score_factors", "updated_at"])
    return lead


@transaction.atomic
def lead_activity_logged(*, lead_id: int, occurred_at: datetime | None) -> Lead | None:
    """An activity was logged on the lead: remember when, count it, re-score."""
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return None
    lead.activity_count += 1
    if occurred_at and (lead.last_activity_at is None or occurred_at > lead.last_activity_at):
        lead.last_activity_at = occurred_at
    _apply_score(lead)
    lead.save(update_fields=["activity_count", "last_activity_at", "score", "score_model", "score_factors",
                             "updated_at"])
    return lead


# --- merge -------------------------------------------------------------------------------------------

@transaction.atomic
def lead_merge(*, actor, target: Lead, other: Lead) -> Lead:
    """Merge `other` into `target`: fill target's blanks, add up engagement, keep `other` as a merged record.

    The merged lead keeps its own audit history and activities and points at the
    target (`merged_into`); `lead.merged` lets the activities app move its
    activities onto the target's timeline.
    """
    _require_writer(actor)
    if target.pk == other.pk:
        raise ValidationError({"other_id": ["A lead cannot be merged into itself."]})
    target = Lead.objects.select_for_update().get(pk=target.pk)
    other = Lead.objects.select_for_update().get(pk=other.pk)
    if other.merged_into_id:
        raise ValidationError({"other_id": ["That lead was already merged."]})
    if other.status == S.CONVERTED:
        raise ValidationError({"other_id": ["A converted lead cannot be merged into another."]})
    if target.merged_into_id:
        raise ValidationError({"other_id": ["This lead was merged into another; merge into that one."]})
    filled = []
    for name in MERGE_FIELDS:
        if getattr(target, name) in ("", None) and getattr(other, name) not in ("", None):
            setattr(target, name, getattr(other, name))
            filled.append(name)
    target.activity_count += other.activity_count
    if other.last_activity_at and (target.last_activity_at is None or other.last_activity_at > target.last_activity_at):
        target.last_activity_at = other.last_activity_at
    if target.assigned_to_id is None and other.assigned_to_id:
        target.assigned_to, target.assigned_at = other.assigned_to, other.assigned_at
        target.assignment_reason = f"kept from merged lead {other.pk}: {other.assignment_reason}"
    _normalise(target)
    _apply_score(target, actor=actor)
    target.save()
    other.merged_into = target
    other.save(update_fields=["merged_into", "updated_at"])
    detail = f"filled {', '.join(filled)}" if filled else "no fields filled"
    _history(target, LeadHistory.Kind.MERGED, actor=actor, from_value=f"lead {other.pk}", to_value=f"lead {target.pk}",
             detail=f"merged {other} ({other.email}) into this lead; {detail}")
    _history(other, LeadHistory.Kind.MERGED, actor=actor, from_value=f"lead {other.pk}", to_value=f"lead {target.pk}",
             detail=f"merged into {target} ({target.email})")
    publish("lead.merged", {"lead_id": target.pk, "merged_lead_id": other.pk}, actor=actor)
    return target


# --- conversion ----------------------------------------------------------------------------------------

@transaction.atomic
def lead_convert(*, actor, lead: Lead, opportunity_name: str = "", amount=None, expected_close_date=None,
                 account=None, owner=None, stage: str = "discovery") -> Lead:
    """Turn a qualified lead into an account (found or created), a contact and an opportunity, all or nothing."""
    from opportunities import services as opp

    _require_writer(actor)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    workflow.check_transition(lead.status, S.CONVERTED)
    owner = owner or lead.assigned_to or actor
    company = lead.company or f"{lead.first_name} {lead.last_name}".strip() or lead.email
    if account is None:
        account = opp.account_find_match(website_domain=domain_of(lead.website), company_name=lead.company)
    if account is None:
        account = opp.account_create(
            actor=actor, name=company, website_domain=lead.website, industry=lead.industry,
            employee_count=lead.employee_count, annual_revenue=lead.annual_revenue, billing_country=lead.country,
            billing_state=lead.state, billing_postal_code=lead.postal_code, owner=owner,
        )
    contact = opp.contact_find_match(account=account, email=lead.email, phone=lead.phone)
    if contact is None or contact.account_id != account.pk:
        contact = opp.contact_create(
            actor=actor, account=account, first_name=lead.first_name, last_name=lead.last_name or lead.email,
            email=lead.email, phone=lead.phone, title=lead.title, owner=owner,
        )
    opportunity = opp.opportunity_create(
        actor=actor, account=account, name=opportunity_name or f"{company}: new business", owner=owner, amount=amount,
        expected_close_date=expected_close_date, lead_id=lead.pk, stage=stage, source=lead.source, contacts=[contact],
        deal_score=lead.score,
    )
    previous = lead.status
    lead.status = S.CONVERTED
    lead.converted_opportunity, lead.converted_account, lead.converted_contact = opportunity, account, contact
    lead.converted_at = timezone.now()
    lead.save(update_fields=["status", "converted_opportunity", "converted_account", "converted_contact",
                             "converted_at", "updated_at"])
    _history(lead, LeadHistory.Kind.CONVERTED, actor=actor, from_value=previous, to_value=S.CONVERTED,
             detail=f"account {account.name} (#{account.pk}), contact #{contact.pk}, opportunity {opportunity.name} "
                    f"(#{opportunity.pk})")
    publish("lead.converted", {"lead_id": lead.pk, "opportunity_id": opportunity.pk, "account_id": account.pk,
                               "contact_id": contact.pk}, actor=actor)
    return lead


# --- bulk --------------------------------------------------------------------------------------------------

def lead_bulk_assign(*, actor, leads, owner) -> int:
    """Assign many leads (each in its own transaction, with its history and event)."""
    done = 0
    for lead in leads:
        lead_assign(actor=actor, lead=lead, owner=owner, note="bulk assignment")
        done += 1
    return done


def lead_bulk_transition(*, actor, leads, to_status: str) -> tuple[int, list[str]]:
    """Move many leads; those the state machine refuses are reported, not failed."""
    done, refused = 0, []
    for lead in leads:
        try:
            lead_transition(actor=actor, lead=lead, to_status=to_status)
            done += 1
        except ValidationError as exc:
            refused.append(f"{lead}: {' '.join(exc.message_dict.get('status', exc.messages))}")
    return done, refused
