"""Writes for leads: capture, qualification, routing, scoring, merge and conversion.

Every service is keyword-only, takes the acting user (None only for public
web-to-lead submissions), runs in one transaction, validates first and
publishes its events last.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import pycountry
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activities.selectors import activities_for
from leads import routing, workflow
from leads.models import Lead, LeadHistory
from leads.scoring import score_lead
from opportunities.services import accounts, contacts, deals
from salesapp.assignment import assignee_check, territory_check
from salesapp.audit import audit_bulk
from salesapp.bulk import rows_update, scores_check
from salesapp.changes import apply_changes
from salesapp.crypto import blind_index
from salesapp.events import publish, publish_many
from salesapp.guards import require_permission
from salesapp.locks import rows_lock
from salesapp.normalize import domain_of, normalize_company
from salesapp.privacy import CONSENT_FIELDS, consent_check, redact, tombstone_check
from salesapp.roles import Role

S = Lead.Status
SCORE_FIELDS = ("score", "score_model", "score_factors")
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
            else:
                try:
                    tombstone_check(email)
                except ValidationError as exc:
                    errors.update(exc.message_dict)
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
    if errors:
        raise ValidationError(errors)
    return out


def _normalise(lead: Lead) -> None:
    lead.email_blind_index = blind_index("email", lead.email)
    lead.phone_blind_index = blind_index("phone", lead.phone)
    lead.normalized_company = normalize_company(lead.company)


def _history(lead: Lead, kind: str, *, actor=None, from_value="", to_value="", detail="", at=None) -> LeadHistory:
    return LeadHistory.objects.create(
        lead=lead, kind=kind, from_value=str(from_value or "")[:200], to_value=str(to_value or "")[:200],
        detail=detail, actor=actor, created_at=at or timezone.now(),
    )


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user else "the system"


def _apply_score(lead: Lead, *, actor=None) -> bool:
    """Score the lead with the best scorer that answers; the caller saves it. Whether anything about it changed.

    On a saved lead, a new score or model gets a timeline line and lead.scored (a new lead's first score
    travels in lead.created).
    """
    result = score_lead(lead)
    before = (lead.score, lead.score_model, lead.score_factors)
    if lead.pk and (result.score, result.model) != before[:2]:
        _history(lead, LeadHistory.Kind.SCORED, actor=actor, from_value=lead.score, to_value=result.score,
                 detail=_score_detail(result.model, result.factors))
        publish("lead.scored", {"lead_id": lead.pk, "score": result.score, "model": result.model}, actor=actor)
    lead.score, lead.score_model, lead.score_factors = result.score, result.model, result.factors
    return (lead.score, lead.score_model, lead.score_factors) != before


def _score_detail(model: str, factors: list[dict]) -> str:
    return f"{model}: " + ", ".join(f["detail"] for f in factors)


def _assigned_payload(lead: Lead) -> dict:
    return {"lead_id": lead.pk, "assigned_to": lead.assigned_to_id, "territory_id": lead.territory_id,
            "reason": lead.assignment_reason, "queue": lead.queue}


def _publish_updated(lead: Lead, fields: list[str], *, actor) -> None:
    """lead.updated naming the fields whose values changed; nothing when nothing changed."""
    if fields:
        publish("lead.updated", {"lead_id": lead.pk, "fields": list(dict.fromkeys(fields)),
                                 "assigned_to": lead.assigned_to_id, "territory_id": lead.territory_id,
                                 "status": lead.status}, actor=actor)


# --- capture ---------------------------------------------------------------------------------------

@transaction.atomic
def lead_create(*, actor, route: bool = False, **fields) -> Lead:
    """Capture a lead: validate, score, place it, publish lead.created and lead.assigned.

    Who owns the new lead:
    - the owner the creator named (`assigned_to`), when the assignment policy lets the creator give it;
    - else a sales rep who creates a lead keeps it: the rep owns it and the matcher still files it under its
      territory, with the reason stored; routing hands it on only when the rep asks (`route=True`);
    - else (web-to-lead, imports without an owner, managers, admins and integrations naming nobody)
      routing picks a member of the territory or the default queue.
    A territory the creator named is judged by the policy and kept; otherwise the matcher's is used.
    """
    if actor is not None:
        require_permission(actor, "lead:write")
    data = clean_lead_fields(fields)
    created_at = data.pop("created_at", None)
    status = data.pop("status", S.NEW) or S.NEW
    owner = data.pop("assigned_to", None)
    territory = data.pop("territory", None)
    if route and owner is not None:
        raise ValidationError({"route": ["Name an owner or ask for routing, not both."]})
    if actor is not None:
        assignee_check(actor=actor, assignee=owner, field="assigned_to")
        territory_check(actor=actor, territory=territory, field="territory_id")
    now = timezone.now()
    lead = Lead(status=status, **data)
    if created_at:
        lead.created_at = created_at
    _normalise(lead)
    _apply_score(lead)
    if owner is None and not route and actor is not None and actor.role == Role.SALES_REP:
        owner = actor
    if owner is None:
        decision = routing.route(lead, now=now)
        lead.territory = territory or decision.territory
        lead.assigned_to = decision.owner
        lead.assignment_reason = decision.reason
        lead.queue = decision.queue
    else:
        if territory is None:
            territory, where = routing.match_territory(lead)
        else:
            where = f"territory {territory.name} chosen by {_person(actor)}"
        how = (f"created by {_person(actor)}" if owner == actor
               else f"assigned to {_person(owner)} by {_person(actor)} when the lead was created")
        lead.territory = territory
        lead.assigned_to = owner
        lead.assignment_reason = f"{how}; {where}"
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
    """Change a lead's details (not its status: that goes through the transitions); re-scores it.

    A new owner or territory is judged by the assignment policy; handing back the current ones is not.
    Publishes lead.updated naming the changed fields (and lead.assigned for a new owner), or nothing.
    """
    require_permission(actor, "lead:write")
    if "status" in fields and fields["status"] != lead.status:
        raise ValidationError({"status": ["Change the status with the qualify, disqualify, contact or reopen actions."]})
    fields.pop("status", None)
    fields.pop("created_at", None)
    data = clean_lead_fields(fields, partial=True)
    owner_given = "assigned_to" in data
    new_owner = data.pop("assigned_to", None)
    owner_changes = owner_given and (new_owner.pk if new_owner else None) != lead.assigned_to_id
    if owner_changes:
        assignee_check(actor=actor, assignee=new_owner, field="assigned_to")
    if "territory" in data and (data["territory"].pk if data["territory"] else None) != lead.territory_id:
        territory_check(actor=actor, territory=data["territory"], field="territory_id")
    changed = apply_changes(lead, data)
    _normalise(lead)
    _apply_score(lead, actor=actor)
    lead.save()
    if owner_changes:
        changed += _assign(lead, new_owner, actor=actor, reason=f"reassigned by {_person(actor)}")
    _publish_updated(lead, changed, actor=actor)
    return lead


def _assign(lead: Lead, owner, *, actor, reason: str, territory=..., queue: str = "") -> list[str]:
    """Give `lead` to `owner` (or leave it in `queue`) with a history line and lead.assigned; the changed fields."""
    previous = lead.assigned_to
    data = {"assigned_to": owner, "assigned_at": timezone.now() if owner else None, "assignment_reason": reason,
            "queue": queue}
    if territory is not ...:
        data["territory"] = territory
    changed = apply_changes(lead, data)
    lead.save(update_fields=[*data, "updated_at"])
    _history(lead, LeadHistory.Kind.ASSIGNED, actor=actor, from_value=_person(previous) if previous else "",
             to_value=_person(owner) if owner else queue, detail=reason)
    publish("lead.assigned", _assigned_payload(lead), actor=actor)
    return changed


@transaction.atomic
def lead_assign(*, actor, lead: Lead, owner, note: str = "") -> Lead:
    """Hand a lead to a user by hand, as the assignment policy allows; the reason names who did it."""
    require_permission(actor, "lead:write")
    if owner is None:
        raise ValidationError({"assigned_to": ["Choose the user to give the lead to."]})
    if owner.pk != lead.assigned_to_id:
        assignee_check(actor=actor, assignee=owner, field="assigned_to")
    if lead.status == S.CONVERTED:
        raise ValidationError({"assigned_to": ["A converted lead is not reassigned; its opportunity has the owner."]})
    reason = f"assigned by {_person(actor)}" + (f": {note}" if note else "")
    _publish_updated(lead, _assign(lead, owner, actor=actor, reason=reason), actor=actor)
    return lead


@transaction.atomic
def lead_route(*, actor, lead: Lead) -> Lead:
    """Route a lead again: territory from the matcher, owner by the territory's policy (system work: not judged)."""
    if actor is not None:
        require_permission(actor, "lead:write")
    if lead.status == S.CONVERTED:
        raise ValidationError({"assigned_to": ["A converted lead is not routed again."]})
    decision = routing.route(lead)
    changed = _assign(lead, decision.owner, actor=actor, reason=decision.reason, territory=decision.territory,
                      queue=decision.queue)
    _publish_updated(lead, changed, actor=actor)
    return lead


@transaction.atomic
def lead_transition(*, actor, lead: Lead, to_status: str, note: str = "") -> Lead:
    """Move a lead along the state machine (lead.updated; lead.qualified too); conversion has its own service."""
    require_permission(actor, "lead:write")
    lead = rows_lock(Lead.objects.all()).get(pk=lead.pk)
    workflow.check_transition(lead.status, to_status)
    if to_status == S.CONVERTED:
        raise ValidationError({"status": ["Convert a lead with the convert action, which creates its account, "
                                          "contact and opportunity."]})
    previous = lead.status
    lead.status = to_status
    lead.save(update_fields=["status", "updated_at"])
    _history(lead, LeadHistory.Kind.STATUS, actor=actor, from_value=previous, to_value=to_status, detail=note)
    _publish_updated(lead, ["status"], actor=actor)
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
    """Delete a lead for good (its history goes with it; the audit log keeps the deletion); publishes lead.deleted."""
    require_permission(actor, "lead:delete")
    # No email: outbox rows are kept, and personal data is stored only encrypted.
    payload = {"lead_id": lead.pk, "status": lead.status, "assigned_to": lead.assigned_to_id,
               "territory_id": lead.territory_id, "converted_opportunity_id": lead.converted_opportunity_id}
    lead.delete()
    publish("lead.deleted", payload, actor=actor)


# --- privacy ------------------------------------------------------------------------------------------

# What identifies the person on a lead: blanked when the lead is erased (the email becomes a placeholder).
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "title", "postal_code", "consent_source")


def erased_email(pk: int) -> str:
    return f"erased-{pk}@erased.invalid"


@transaction.atomic
def lead_erase(*, actor, lead: Lead) -> Lead:
    """Anonymise a lead for good (a data subject's erasure, or retention when actor is None).

    Its personal fields are blanked and its email becomes a placeholder nobody owns; the row stays with its
    status, owner, territory, company figures and conversion links, so counts, conversions and deals stay
    whole. Its history lines lose their details, and other leads' lines that quote it (a merge) lose the
    quote. Publishes lead.updated naming the fields (the search index rewrites the lead from it).
    """
    if actor is not None:
        require_permission(actor, "privacy:manage")
    lead = rows_lock(Lead.objects.all()).get(pk=lead.pk)
    if lead.erased_at:
        return lead
    terms = {lead.email, lead.phone, f"{lead.first_name} {lead.last_name}".strip()}
    blank = {name: "" for name in PERSONAL_FIELDS}
    changed = apply_changes(lead, {**blank, "email": erased_email(lead.pk), "erased_at": timezone.now()})
    _normalise(lead)
    lead.save()
    LeadHistory.objects.filter(lead=lead).exclude(detail="").update(detail="")
    quoting = Q(pk__in=[])
    for term in filter(None, (t.strip() for t in terms)):
        quoting |= Q(detail__icontains=term)
    for line in LeadHistory.objects.filter(quoting):
        LeadHistory.objects.filter(pk=line.pk).update(detail=redact(line.detail, terms))
    _publish_updated(lead, changed, actor=actor)
    return lead


@transaction.atomic
def lead_privacy_update(*, actor, lead: Lead, **fields) -> Lead:
    """Record a lead's lawful basis, consent (source, time, withdrawal) or CCPA opt-out (`do_not_sell`).

    Consent needs its source and time together; a withdrawal needs consent. Publishes lead.updated.
    """
    require_permission(actor, "lead:write")
    consent_check(lead, fields)
    changed = apply_changes(lead, fields)
    lead.save()
    _publish_updated(lead, changed, actor=actor)
    return lead


# --- scoring and engagement -------------------------------------------------------------------------

@transaction.atomic
def lead_activity_logged(*, lead_id: int, occurred_at: datetime | None) -> Lead | None:
    """An activity was logged on the lead: remember when, count it, re-score."""
    lead = rows_lock(Lead.objects.all()).filter(pk=lead_id).first()
    if lead is None:
        return None
    lead.activity_count += 1
    if occurred_at and (lead.last_activity_at is None or occurred_at > lead.last_activity_at):
        lead.last_activity_at = occurred_at
    _apply_score(lead)
    lead.save(update_fields=["activity_count", "last_activity_at", "score", "score_model", "score_factors",
                             "updated_at"])
    return lead


@transaction.atomic
def lead_activity_recount(*, lead_id: int) -> Lead | None:
    """An activity of the lead was deleted or moved: count its activities and find the latest again, re-score."""
    lead = rows_lock(Lead.objects.all()).filter(pk=lead_id).first()
    if lead is None:
        return None
    docs = activities_for(kind="lead", ids=[lead_id])
    lead.activity_count = len(docs)
    lead.last_activity_at = max((d["occurred_at"] for d in docs), default=None)
    _apply_score(lead)
    lead.save(update_fields=["activity_count", "last_activity_at", "score", "score_model", "score_factors",
                             "updated_at"])
    return lead


@transaction.atomic
def leads_activities_added(*, counts: dict[int, tuple[int, datetime]]) -> int:
    """A batch of activities was imported onto these leads ({lead id: (how many, latest time)}): count them and
    move the last activity time forward, in one read and one batched write. Scores follow through the
    rescoring that `activity.imported` asks for."""
    leads = list(rows_lock(Lead.objects.filter(pk__in=list(counts))).only("id", "activity_count",
                                                                          "last_activity_at"))
    for lead in leads:
        added, latest = counts[lead.pk]
        lead.activity_count += added
        if lead.last_activity_at is None or latest > lead.last_activity_at:
            lead.last_activity_at = latest
    rows_update(Lead, leads, ("activity_count", "last_activity_at"))
    return len(leads)


# --- merge -------------------------------------------------------------------------------------------

@transaction.atomic
def lead_merge(*, actor, target: Lead, other: Lead) -> Lead:
    """Merge `other` into `target`: fill target's blanks, add up engagement, keep `other` as a merged record.

    The merged lead keeps its own audit history and activities and points at the
    target (`merged_into`); `lead.merged` lets the activities app move its
    activities onto the target's timeline. Both leads publish lead.updated with what changed on them.
    """
    require_permission(actor, "lead:write")
    if target.pk == other.pk:
        raise ValidationError({"other_id": ["A lead cannot be merged into itself."]})
    # Both in one statement, in key order: two merges of the same pair either way round never deadlock.
    both = {lead.pk: lead for lead in rows_lock(Lead.objects.filter(pk__in=(target.pk, other.pk)))}
    target, other = both[target.pk], both[other.pk]
    if other.merged_into_id:
        raise ValidationError({"other_id": ["That lead was already merged."]})
    if other.status == S.CONVERTED:
        raise ValidationError({"other_id": ["A converted lead cannot be merged into another."]})
    if target.merged_into_id:
        raise ValidationError({"other_id": ["This lead was merged into another; merge into that one."]})
    changes = {name: getattr(other, name) for name in MERGE_FIELDS
               if getattr(target, name) in ("", None) and getattr(other, name) not in ("", None)}
    filled = list(changes)
    changes["activity_count"] = target.activity_count + other.activity_count
    if other.last_activity_at and (target.last_activity_at is None or other.last_activity_at > target.last_activity_at):
        changes["last_activity_at"] = other.last_activity_at
    if target.assigned_to_id is None and other.assigned_to_id:
        changes.update(assigned_to=other.assigned_to, assigned_at=other.assigned_at,
                       assignment_reason=f"kept from merged lead {other.pk}: {other.assignment_reason}")
    changed = apply_changes(target, changes)
    _normalise(target)
    _apply_score(target, actor=actor)
    target.save()
    other.merged_into = target
    other.save(update_fields=["merged_into", "updated_at"])
    detail = f"filled {', '.join(filled)}" if filled else "no fields filled"
    _history(target, LeadHistory.Kind.MERGED, actor=actor, from_value=f"lead {other.pk}", to_value=f"lead {target.pk}",
             detail=f"merged {other} (lead {other.pk}) into this lead; {detail}")
    _history(other, LeadHistory.Kind.MERGED, actor=actor, from_value=f"lead {other.pk}", to_value=f"lead {target.pk}",
             detail=f"merged into {target} (lead {target.pk})")
    publish("lead.merged", {"lead_id": target.pk, "merged_lead_id": other.pk}, actor=actor)
    _publish_updated(target, changed, actor=actor)
    _publish_updated(other, ["merged_into"], actor=actor)
    return target


# --- conversion ----------------------------------------------------------------------------------------

@transaction.atomic
def lead_convert(*, actor, lead: Lead, opportunity_name: str = "", amount=None, expected_close_date=None,
                 account=None, owner=None, stage: str = "discovery") -> Lead:
    """Turn a qualified lead into an account (found or created), a contact and an opportunity, all or nothing.

    The person's consent, withdrawal and opt-out follow them onto the contact.
    The records go to `owner` when the converting user names one (judged by the assignment policy),
    else to the lead's owner, else to the converting user.
    """
    require_permission(actor, "lead:write")
    assignee_check(actor=actor, assignee=owner, field="owner")
    lead = rows_lock(Lead.objects.all()).get(pk=lead.pk)
    workflow.check_transition(lead.status, S.CONVERTED)
    owner = owner or lead.assigned_to or actor
    company = lead.company or f"{lead.first_name} {lead.last_name}".strip() or lead.email
    if account is None:
        account = accounts.account_find_match(website_domain=domain_of(lead.website), company_name=lead.company)
    if account is None:
        account = accounts.account_create(
            actor=actor, name=company, website_domain=lead.website, industry=lead.industry,
            employee_count=lead.employee_count, annual_revenue=lead.annual_revenue, billing_country=lead.country,
            billing_state=lead.state, billing_postal_code=lead.postal_code, owner=owner,
        )
    contact = contacts.contact_find_match(account=account, email=lead.email, phone=lead.phone)
    if contact is None or contact.account_id != account.pk:
        contact = contacts.contact_create(
            actor=actor, account=account, first_name=lead.first_name, last_name=lead.last_name or lead.email,
            email=lead.email, phone=lead.phone, title=lead.title, owner=owner,
        )
    consent = {name: getattr(lead, name) for name in CONSENT_FIELDS if getattr(lead, name) not in ("", None, False)}
    if consent:  # the person's consent, withdrawal or opt-out follows them onto their contact
        contacts.contact_privacy_update(actor=actor, contact=contact, **consent)
    opportunity = deals.opportunity_create(
        actor=actor, account=account, name=opportunity_name or f"{company}: new business", owner=owner, amount=amount,
        expected_close_date=expected_close_date, lead_id=lead.pk, stage=stage, source=lead.source, contacts=[contact],
    )
    previous = lead.status
    lead.status = S.CONVERTED
    lead.converted_opportunity, lead.converted_account, lead.converted_contact = opportunity, account, contact
    lead.converted_at = timezone.now()
    converted = ["status", "converted_opportunity", "converted_account", "converted_contact", "converted_at"]
    lead.save(update_fields=[*converted, "updated_at"])
    _history(lead, LeadHistory.Kind.CONVERTED, actor=actor, from_value=previous, to_value=S.CONVERTED,
             detail=f"account {account.name}, contact {contact}, deal {opportunity.name}")
    publish("lead.converted", {"lead_id": lead.pk, "opportunity_id": opportunity.pk, "account_id": account.pk,
                               "contact_id": contact.pk}, actor=actor)
    _publish_updated(lead, converted, actor=actor)
    return lead


# --- bulk --------------------------------------------------------------------------------------------------

def lead_bulk_assign(*, actor, leads, owner) -> int:
    """Assign many leads, each in its own transaction with its history, audit entry and events.

    The owner is judged once before any lead moves, so a refused pick changes nothing.
    """
    require_permission(actor, "lead:write")
    if owner is None:
        raise ValidationError({"assigned_to": ["Choose the user to give the leads to."]})
    assignee_check(actor=actor, assignee=owner, field="assigned_to")
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


# --- scores computed elsewhere ----------------------------------------------------------------------------

SCORE_BATCH = 2000


@transaction.atomic
def lead_scores_write(*, actor, scores: dict[int, dict]) -> int:
    """Store lead scores computed by intelligence's models, in batches: the only way such scores reach a lead.

    `scores` maps lead id -> {"score": 0-100, "model": the label of the model that made it ("LightGBM v3"),
    "factors": the reasons as {factor, points, detail}}. A lead whose score or model changed gets a timeline
    line, an audit entry and one lead.scored event; new reasons for the same score are stored quietly. Leads
    deleted while they were being scored are left out. Returns how many leads were scored anew.
    """
    scores_check(scores)
    ids = list(scores)
    current = {}
    for i in range(0, len(ids), SCORE_BATCH):
        for pk, *stored in Lead.objects.filter(pk__in=ids[i : i + SCORE_BATCH]).values_list("pk", *SCORE_FIELDS):
            current[pk] = tuple(stored)
    changed = [
        Lead(pk=pk, score=s["score"], score_model=s["model"], score_factors=s["factors"])
        for pk, s in scores.items() if pk in current and current[pk] != (s["score"], s["model"], s["factors"])
    ]
    rows_update(Lead, changed, SCORE_FIELDS)
    rescored = [lead for lead in changed if current[lead.pk][:2] != (lead.score, lead.score_model)]
    audit_bulk(Lead, {
        lead.pk: {name: [str(old), str(new)] for name, old, new in zip(
            SCORE_FIELDS[:2], current[lead.pk][:2], (lead.score, lead.score_model), strict=True) if old != new}
        for lead in rescored
    }, actor=actor)
    LeadHistory.objects.bulk_create([
        LeadHistory(lead_id=lead.pk, kind=LeadHistory.Kind.SCORED, from_value=str(current[lead.pk][0]),
                    to_value=str(lead.score), detail=_score_detail(lead.score_model, lead.score_factors),
                    actor=actor, created_at=timezone.now())
        for lead in rescored
    ], batch_size=SCORE_BATCH)
    publish_many("lead.scored", [{"lead_id": lead.pk, "score": lead.score, "model": lead.score_model}
                                 for lead in rescored], actor=actor)
    return len(rescored)


# --- imports of history ------------------------------------------------------------------------------------

HISTORY_TIMES = ("created_at", "updated_at", "status_changed_at", "converted_at")


def _imported_lead(data: dict, *, actor, now) -> tuple[Lead, dict]:
    """An unsaved lead from an import row, placed like a captured one, with its historical times beside it."""
    data = dict(data)
    times = {k: data.pop(k, None) for k in HISTORY_TIMES}
    owner = data.pop("assigned_to", None)
    territory = data.pop("territory", None)
    lead = Lead(**data)
    lead.created_at = times["created_at"] or now
    _normalise(lead)
    _apply_score(lead)
    if owner is None:
        decision = routing.route(lead, now=now)
        lead.territory = territory or decision.territory
        lead.assigned_to, lead.assignment_reason, lead.queue = decision.owner, decision.reason, decision.queue
    else:
        lead.territory = territory or routing.match_territory(lead)[0]
        lead.assigned_to = owner
        lead.assignment_reason = f"imported by {_person(actor)} with its owner"
    if lead.assigned_to_id:
        lead.assigned_at = lead.created_at
    if lead.status == S.CONVERTED:
        lead.converted_at = times["converted_at"] or times["status_changed_at"] or lead.created_at
    return lead, times


def _imported_history(lead: Lead, times: dict, actor) -> list[LeadHistory]:
    """The timeline a lead would have had if it had been worked here: created, assigned, its status reached."""
    def line(kind, at, **kw):
        return LeadHistory(lead=lead, kind=kind, actor=actor, created_at=at, **kw)

    rows = [line(LeadHistory.Kind.CREATED, lead.created_at, to_value=S.NEW, detail=f"imported; source "
                                                                                   f"{lead.source or 'unknown'}")]
    if lead.assigned_to_id or lead.queue:
        rows.append(line(LeadHistory.Kind.ASSIGNED, lead.created_at, detail=lead.assignment_reason[:200],
                         to_value=_person(lead.assigned_to) if lead.assigned_to else lead.queue))
    if lead.status != S.NEW:
        reached = times["status_changed_at"] or lead.converted_at or times["updated_at"] or lead.created_at
        kind = LeadHistory.Kind.CONVERTED if lead.status == S.CONVERTED else LeadHistory.Kind.STATUS
        rows.append(line(kind, reached, from_value=S.NEW, to_value=lead.status, detail="imported history"))
    return rows


@transaction.atomic
def leads_import(*, actor, new: list[dict], existing: list[tuple[Lead, dict]]) -> tuple[list[int], int]:
    """Write a batch of imported leads set-based: new ones in any status with their original times, history
    lines at those times, audit entries and one `lead.imported` for the batch; known ones (same external id or
    email) through `lead_update`, only where a value differs. Answers (ids created, count updated).

    Converted leads are linked to their deals by `leads_import_link_conversions` once the deals are in.
    """
    require_permission(actor, "lead:write")
    now = timezone.now()
    built = [_imported_lead(data, actor=actor, now=now) for data in new]
    leads = Lead.objects.bulk_create([lead for lead, _t in built], batch_size=500)
    stamped = []
    for lead, times in built:
        lead.updated_at = times["updated_at"] or lead.converted_at or lead.created_at
        stamped.append(lead)
    rows_update(Lead, stamped, ("updated_at",))  # auto_now stamped the import's time on insert
    LeadHistory.objects.bulk_create([h for lead, times in built for h in _imported_history(lead, times, actor)],
                                    batch_size=1000)
    audit_bulk(Lead, {lead.pk: {"status": ["None", lead.status], "email": ["None", lead.email]} for lead in leads},
               action=LogEntry.Action.CREATE, actor=actor)
    if leads:
        publish("lead.imported", {"lead_ids": [lead.pk for lead in leads]}, actor=actor)
    for lead, row in existing:
        data = {k: v for k, v in row.items() if k not in (*HISTORY_TIMES, "status", "external_id")}
        if any(getattr(lead, k) != v for k, v in data.items()):
            lead_update(actor=actor, lead=lead, **data)
    external = [lead for lead, data in existing if data.get("external_id") and lead.external_id != data["external_id"]]
    for lead in external:
        lead.external_id = next(d["external_id"] for ld, d in existing if ld is lead)
    rows_update(Lead, external, ("external_id",))
    return [lead.pk for lead in leads], len(existing)


@transaction.atomic
def leads_import_link_conversions(*, actor, lead_ids) -> int:
    """Link imported converted leads to the deal that names them (`Opportunity.lead_id`), with that deal's
    account and contact, and publish `lead.converted`. Answers how many were linked."""
    waiting = list(Lead.objects.filter(pk__in=list(lead_ids), status=S.CONVERTED,
                                       converted_opportunity__isnull=True))
    if not waiting:
        return 0
    found = deals.deals_by_lead([lead.pk for lead in waiting])
    linked = []
    for lead in waiting:
        deal = found.get(lead.pk)
        if deal is None:
            continue
        contact = next(iter(deal.contacts.all()), None) or contacts.contact_find_match(account=deal.account,
                                                                                       email=lead.email)
        lead.converted_opportunity, lead.converted_account, lead.converted_contact = deal, deal.account, contact
        linked.append(lead)
    rows_update(Lead, linked, ("converted_opportunity", "converted_account", "converted_contact"))
    publish_many("lead.converted", [{"lead_id": lead.pk, "opportunity_id": lead.converted_opportunity_id,
                                     "account_id": lead.converted_account_id,
                                     "contact_id": lead.converted_contact_id} for lead in linked], actor=actor)
    return len(linked)
