"""Writes for deals and the pipeline stages: create, update, close, reopen, delete, bulk stage moves,
stage defaults, and the activity timestamp.

Every service is keyword-only, takes the acting user, runs in one transaction (joining the
caller's, so lead conversion can call several in one atomic block), validates first and
publishes its events last. Events say what happened: `opportunity.stage_changed` only for a
stage move, `opportunity.updated` naming the fields whose values changed otherwise (nothing
when nothing changed), `opportunity.deleted` for a delete. Which stages are open, won and
lost is read from `Stage`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date

from opportunities.models import Account, LossReason, Opportunity, Stage, StageHistory
from opportunities.selectors import open_stage_keys
from salesapp import fields as field_policy
from salesapp.assignment import assignee_check, territory_check
from salesapp.audit import audit_bulk
from salesapp.changes import apply_changes
from salesapp.events import publish, publish_all
from salesapp.guards import require_permission
from salesapp.locks import rows_lock
from salesapp.roles import Role

BULK_BATCH = 100
# Deals re-derived per statement when a stage's default probability changes.
STAGE_DEFAULT_BATCH = 500

# Fields an update sets as given; stage, probability, forecast category and contacts go through their rules.
# The score is not among them: it has one writer, opportunities.services.scores.
PLAIN_FIELDS = ("name", "amount", "expected_close_date", "owner", "next_step", "source", "account", "territory",
                "close_reason", "margin", "cost")
UPDATABLE_FIELDS = {*PLAIN_FIELDS, "stage", "probability", "forecast_category", "contacts"}
# What follows from the stage and the probability unless set by hand.
DERIVED_FIELDS = ("probability", "probability_is_manual", "forecast_category", "forecast_category_is_manual")


def _stage(key) -> Stage:
    if isinstance(key, Stage):
        return key
    try:
        return Stage.objects.get(pk=key)
    except Stage.DoesNotExist:
        raise ValidationError({"stage": [f"Unknown stage {key!r}."]})


def _closing_stage(*, won: bool) -> Stage:
    """The stage a deal closes into: the first closed stage (by order) that is won, or lost."""
    return Stage.objects.filter(is_closed=True, is_won=won).order_by("order")[:1].get()


def default_forecast_category(stage: Stage, probability: int) -> str:
    """Closed won is `closed`, closed lost `omitted`; open deals by probability: 75+ commit, 50+ best case,
    else pipeline.
    """
    if stage.is_closed:
        return Opportunity.ForecastCategory.CLOSED if stage.is_won else Opportunity.ForecastCategory.OMITTED
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
        "forecast_category": opp.forecast_category,
        "expected_close_date": opp.expected_close_date.isoformat() if opp.expected_close_date else None,
        "actual_close_date": opp.actual_close_date.isoformat() if opp.actual_close_date else None,
        **extra,
    }


def _derived(opp: Opportunity) -> dict:
    return {f: getattr(opp, f) for f in DERIVED_FIELDS}


def _derived_changes(opp: Opportunity, before: dict) -> list[str]:
    return [f for f in DERIVED_FIELDS if getattr(opp, f) != before[f]]


def _apply_stage(opp: Opportunity, stage: Stage, *, actor, now, note: str = "") -> StageHistory:
    """Move `opp` to `stage` in memory and return the (unsaved) history row for the move."""
    history = StageHistory(
        opportunity=opp,
        from_stage=opp.stage_id or "",
        to_stage=stage.key,
        changed_by=actor,
        changed_at=now,
        days_in_previous_stage=_days_between(opp.stage_changed_at, now),
        note=note,
    )
    opp.stage = stage
    opp.stage_changed_at = now
    if not opp.probability_is_manual:
        opp.probability = stage.default_probability
    if stage.is_closed or not opp.forecast_category_is_manual:
        opp.forecast_category = default_forecast_category(stage, opp.probability)
    return history


def _stage_payload(opp: Opportunity, history: StageHistory, **extra) -> dict:
    return _payload(opp, from_stage=history.from_stage, to_stage=history.to_stage, previous_stage=history.from_stage,
                    **extra)


def _validate_amount(amount, field="amount"):
    if amount is not None and Decimal(amount) < 0:
        raise ValidationError({field: ["Must not be negative."]})


def _validate_margin_and_cost(*, margin=None, cost=None) -> None:
    errors = {}
    if margin is not None and not -100 <= Decimal(margin) <= 100:
        errors["margin"] = ["Enter a margin between -100 and 100 (percent)."]
    if cost is not None and Decimal(cost) < 0:
        errors["cost"] = ["Must not be negative."]
    if errors:
        raise ValidationError(errors)


def _refresh_caller(opportunity: Opportunity, opp: Opportunity) -> None:
    """Give the caller's instance the saved values (services lock and reload their own copy)."""
    opportunity.__dict__.update({k: v for k, v in opp.__dict__.items() if not k.startswith("_")})
    opportunity._state.fields_cache = {}


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
    stage: str | Stage | None = None,
    source: str = "",
    contacts=(),
    next_step: str = "",
    probability: int | None = None,
    forecast_category: str = "",
    territory=None,
    created_at=None,
    margin=None,
    cost=None,
    external_id: str = "",
) -> Opportunity:
    """Open a deal on an account in an open stage (default: the first); it takes the account's territory
    and the stage's probability. The owner and an explicit territory must be ones the actor may pick;
    margin and cost only roles the field policy allows set.
    """
    require_permission(actor, "opportunity:write")
    field_policy.require_write(actor, Opportunity, [n for n, v in (("margin", margin), ("cost", cost))
                                                    if v is not None])
    stage_obj = _stage(stage or open_stage_keys()[0])
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["An opportunity needs a name."]
    if owner is None:
        errors["owner_id"] = ["An opportunity needs an owner."]
    if stage_obj.is_closed:
        errors["stage"] = ["A new opportunity starts in an open stage; close it with the close action."]
    if probability is not None and not 0 <= int(probability) <= 100:
        errors["probability"] = ["Must be between 0 and 100."]
    if forecast_category and forecast_category not in Opportunity.ForecastCategory.values:
        errors["forecast_category"] = [f"Unknown forecast category {forecast_category!r}."]
    if errors:
        raise ValidationError(errors)
    _validate_amount(amount)
    _validate_margin_and_cost(margin=margin, cost=cost)
    assignee_check(actor=actor, assignee=owner, field="owner_id")
    territory_check(actor=actor, territory=territory, field="territory_id")
    contacts = list(contacts)
    foreign = [c for c in contacts if c.account_id != account.pk]
    if foreign:
        raise ValidationError({"contacts": ["Contacts must belong to the opportunity's account."]})
    now = created_at or timezone.now()
    opp = Opportunity(
        external_id=external_id,
        name=name.strip(),
        account=account,
        lead_id=lead_id,
        owner=owner,
        amount=amount,
        expected_close_date=_as_date(expected_close_date),
        source=source or "",
        next_step=next_step or "",
        territory_id=territory.pk if territory is not None else account.territory_id,
        created_at=now,
        margin=margin,
        cost=cost,
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


def _validate_update(actor, opp: Opportunity, fields: dict) -> None:
    errors = {}
    if "name" in fields and not (fields["name"] or "").strip():
        errors["name"] = ["An opportunity needs a name."]
    if "owner" in fields and fields["owner"] is None:
        errors["owner_id"] = ["An opportunity needs an owner."]
    if "probability" in fields and fields["probability"] is not None and not 0 <= int(fields["probability"]) <= 100:
        errors["probability"] = ["Must be between 0 and 100."]
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
    _validate_margin_and_cost(margin=fields.get("margin"), cost=fields.get("cost"))
    if opp.stage.is_won and "amount" in fields and not fields["amount"]:
        raise ValidationError({"amount": ["A won deal needs an amount."]})
    if fields.get("owner") is not None and fields["owner"].pk != opp.owner_id:
        assignee_check(actor=actor, assignee=fields["owner"], field="owner_id")
    if fields.get("territory") is not None and fields["territory"].pk != opp.territory_id:
        territory_check(actor=actor, territory=fields["territory"], field="territory_id")
    account_id = fields["account"].pk if fields.get("account") is not None else opp.account_id
    if "contacts" in fields and any(c.account_id != account_id for c in fields["contacts"]):
        raise ValidationError({"contacts": ["Contacts must belong to the opportunity's account."]})


@transaction.atomic
def opportunity_update(*, actor, opportunity: Opportunity, **fields) -> Opportunity:
    """Change a deal. A stage move writes history and follows the stage rules; a probability
    set by hand sticks (pass `probability=None` to follow the stage again); only the owner
    (or an admin) overrides the forecast category. A new owner or territory must be one the
    actor may pick.

    Publishes `opportunity.stage_changed` for a stage move and `opportunity.updated` naming the
    other fields whose values changed; an update that changes nothing writes nothing. Margin and
    cost only roles the field policy allows change (403 naming the field).
    """
    require_permission(actor, "opportunity:write")
    field_policy.require_write(actor, Opportunity, fields)
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({f: ["This field cannot be changed here."] for f in sorted(unknown)})
    # Contacts read after the lock, once: for the comparison below and for the caller's answer.
    opp = rows_lock(Opportunity.objects.prefetch_related("contacts")).get(pk=opportunity.pk)
    if opp.stage_id == opportunity.stage_id and Opportunity.stage.is_cached(opportunity):
        opp.stage = opportunity.stage  # the same reference row the caller read: no second read of it
    # A PUT sends back what it read: an unchanged value is not a choice made by hand.
    if "probability" in fields and fields["probability"] is not None and not opp.probability_is_manual \
            and int(fields["probability"]) == opp.probability:
        del fields["probability"]
    if fields.get("forecast_category") and fields["forecast_category"] == opp.forecast_category:
        del fields["forecast_category"]
    _validate_update(actor, opp, fields)
    if "expected_close_date" in fields:
        fields["expected_close_date"] = _as_date(fields["expected_close_date"])
    if "name" in fields:
        fields["name"] = fields["name"].strip()

    changed = apply_changes(opp, {f: fields[f] for f in PLAIN_FIELDS if f in fields})
    before = _derived(opp)
    if "probability" in fields:
        if fields["probability"] is None:
            opp.probability_is_manual = False
            opp.probability = opp.stage.default_probability
        else:
            opp.probability = int(fields["probability"])
            opp.probability_is_manual = True
    if "forecast_category" in fields:
        if fields["forecast_category"]:
            opp.forecast_category = fields["forecast_category"]
            opp.forecast_category_is_manual = True
        else:
            opp.forecast_category_is_manual = False
    if not opp.forecast_category_is_manual and not opp.stage.is_closed:
        opp.forecast_category = default_forecast_category(opp.stage, opp.probability)
    changed += _derived_changes(opp, before)
    if "contacts" in fields and {c.pk for c in fields["contacts"]} != {c.pk for c in opp.contacts.all()}:
        changed.append("contacts")

    new_stage = _stage(fields["stage"]) if fields.get("stage") else None
    history = None
    if new_stage is not None and new_stage.key != opp.stage_id:
        history = _move(opp, new_stage, actor=actor, now=timezone.now())
    if not changed and history is None:
        return opp
    opp.save()
    if "contacts" in changed:
        opp.contacts.set(fields["contacts"])
    named = []
    if history is not None:
        history.save()
        named.append(("opportunity.stage_changed", _stage_payload(opp, history)))
    if changed:
        named.append(("opportunity.updated", _payload(opp, fields=changed)))
    publish_all(named, actor=actor)
    _refresh_caller(opportunity, opp)
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
    from the admin-managed list. Publishes the stage change and `opportunity.won` / `opportunity.lost`
    (and `opportunity.updated` when the close also changed the amount).
    `close_date` lets imports carry a deal's original close date.
    """
    require_permission(actor, "opportunity:write")
    if outcome not in ("won", "lost"):
        raise ValidationError({"outcome": ["Outcome must be 'won' or 'lost'."]})
    opp = rows_lock(Opportunity.objects.all()).get(pk=opportunity.pk)
    if opp.stage.is_closed:
        raise ValidationError({"outcome": [f"This deal is already {opp.stage.label.lower()}; reopen it first."]})
    changed = []
    if amount is not None:
        _validate_amount(amount)
        changed = apply_changes(opp, {"amount": amount})
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
    stage = _closing_stage(won=outcome == "won")
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
    payload = _stage_payload(opp, history)
    publish("opportunity.stage_changed", payload, actor=actor)
    if outcome == "won":
        publish("opportunity.won", payload, actor=actor)
    else:
        publish("opportunity.lost", {**payload, "loss_reason": loss_reason.name}, actor=actor)
    if changed:
        publish("opportunity.updated", _payload(opp, fields=changed), actor=actor)
    _refresh_caller(opportunity, opp)
    return opp


@transaction.atomic
def opportunity_reopen(*, actor, opportunity: Opportunity, stage: str | Stage | None = None) -> Opportunity:
    """Reopen a closed deal (admins and sales managers) into the stage it closed from (else the last open stage).

    The reopen is recorded as a stage-history row and `opportunity.reopened`, whose payload
    carries the former close date and stage so attainment can be taken back.
    """
    require_permission(actor, "opportunity:delete")
    opp = rows_lock(Opportunity.objects.all()).get(pk=opportunity.pk)
    if not opp.stage.is_closed:
        raise ValidationError({"stage": ["This deal is open."]})
    if stage:
        target = _stage(stage)
    else:
        open_keys = open_stage_keys()
        last_open = (
            StageHistory.objects.filter(opportunity=opp, to_stage=opp.stage_id, from_stage__in=open_keys)
            .order_by("-changed_at").values_list("from_stage", flat=True).first()
        )
        target = _stage(last_open or open_keys[-1])
    if target.is_closed:
        raise ValidationError({"stage": ["Reopen into an open stage."]})
    closed_on = opp.actual_close_date
    now = timezone.now()
    history = _apply_stage(opp, target, actor=actor, now=now, note="reopened")
    opp.actual_close_date = None
    opp.loss_reason = None
    opp.save()
    history.save()
    payload = _stage_payload(opp, history, actual_close_date=closed_on.isoformat() if closed_on else None)
    publish("opportunity.stage_changed", payload, actor=actor)
    publish("opportunity.reopened", payload, actor=actor)
    _refresh_caller(opportunity, opp)
    return opp


@transaction.atomic
def opportunity_delete(*, actor, opportunity: Opportunity) -> None:
    """Delete a deal (admins and sales managers); `opportunity.deleted` carries its last stage, amount and
    close date so what counted it (attainment, pipeline) can take it back.
    """
    require_permission(actor, "opportunity:delete")
    payload = _payload(opportunity)
    opportunity.delete()
    publish("opportunity.deleted", payload, actor=actor)


def opportunity_bulk_stage(*, actor, ids, stage: str | Stage, visible=None) -> dict:
    """Move many open deals to one open stage, in batches of 100 (one transaction each).

    Each deal gets its stage-history row, its `opportunity.stage_changed` event and an audit
    entry. `visible` is the queryset the actor may change (the caller's `restrict()`); ids
    outside it, closed deals and unknown ids are reported, not moved.
    Returns {"updated": [ids], "unchanged": [ids], "errors": {id: message}}.
    """
    require_permission(actor, "opportunity:write")
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
            opps = {o.pk: o for o in rows_lock(base.filter(pk__in=batch)).prefetch_related("stage")}
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
                old = {"stage": opp.stage_id, "probability": opp.probability,
                       "forecast_category": opp.forecast_category}
                histories.append(_apply_stage(opp, target, actor=actor, now=now, note="bulk"))
                changed.append(opp)
                new = {"stage": opp.stage_id, "probability": opp.probability,
                       "forecast_category": opp.forecast_category}
                audit[pk] = {f: [str(old[f]), str(new[f])] for f in old if old[f] != new[f]}
            if changed:
                for opp in changed:
                    opp.updated_at = now
                Opportunity.objects.bulk_update(
                    changed, ["stage", "stage_changed_at", "probability", "forecast_category", "updated_at"]
                )
                StageHistory.objects.bulk_create(histories)
                audit_bulk(Opportunity, audit, actor=actor)
                for opp, history in zip(changed, histories, strict=True):
                    publish("opportunity.stage_changed", _stage_payload(opp, history, bulk=True), actor=actor)
                    result["updated"].append(opp.pk)
    return result


def opportunity_touch_activity(*, opportunity_id=None, account_id=None, occurred_at) -> None:
    """Move `last_activity_at` forward (never back) on the deal and account an activity touched.

    A follower of `activity.*` events: the activity's own event is the record of the change.
    """
    newer = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=occurred_at)
    if opportunity_id:
        Opportunity.objects.filter(newer, pk=opportunity_id).update(last_activity_at=occurred_at)
    if account_id:
        Account.objects.filter(newer, pk=account_id).update(last_activity_at=occurred_at)


# --- stages ----------------------------------------------------------------------------------------

@transaction.atomic
def stage_update(*, actor, stage: Stage, default_probability: int | None = None, label: str | None = None,
                 order: int | None = None) -> Stage:
    """Admins change a stage's label, order or default probability.

    A new default probability of an open stage is re-derived, in batches, on the open deals of
    that stage that follow the default (probability not set by hand): their probability becomes
    the new default and their forecast category (unless set by hand) the one it implies. Each
    deal changed gets one audit entry and one `opportunity.updated` event.
    """
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only admins change stages.")
    if default_probability is not None and not 0 <= int(default_probability) <= 100:
        raise ValidationError({"default_probability": ["Must be between 0 and 100."]})
    current = rows_lock(Stage.objects.all()).get(pk=stage.pk)
    changed = apply_changes(current, {
        f: v for f, v in (("label", label), ("order", order), ("default_probability", default_probability))
        if v not in (None, "")
    })
    if changed:
        current.save()
    if "default_probability" in changed and not current.is_closed:
        _deals_follow_stage_default(current, actor=actor)
    return current


def _deals_follow_stage_default(stage: Stage, *, actor) -> int:
    """Give the stage's open deals that follow its default the new probability and its category."""
    following = Opportunity.objects.filter(stage=stage, probability_is_manual=False).exclude(
        probability=stage.default_probability)
    moved, last_pk = 0, 0
    while True:
        batch = list(rows_lock(following.filter(pk__gt=last_pk))[:STAGE_DEFAULT_BATCH])
        if not batch:
            return moved
        last_pk = batch[-1].pk
        now = timezone.now()
        audit, events = {}, []
        for opp in batch:
            before = _derived(opp)
            opp.probability = stage.default_probability
            if not opp.forecast_category_is_manual:
                opp.forecast_category = default_forecast_category(stage, opp.probability)
            opp.updated_at = now
            fields = _derived_changes(opp, before)
            audit[opp.pk] = {f: [str(before[f]), str(getattr(opp, f))] for f in fields}
            events.append(_payload(opp, fields=fields, reason="stage_default"))
        Opportunity.objects.bulk_update(batch, ["probability", "forecast_category", "updated_at"])
        audit_bulk(Opportunity, audit, actor=actor)
        for payload in events:
            publish("opportunity.updated", payload, actor=actor)
        moved += len(batch)


@transaction.atomic
def stage_history_import(*, actor, rows: list[dict]) -> tuple[int, int]:
    """Add imported stage changes (deal, stage, entered at) to the deals' history in bulk, each from the stage
    the deal was in before that moment; a change already recorded (same deal, stage and time) is left as it is
    and counted as updated. The deal's current stage stays what its own import said. Answers (created, updated).
    """
    require_permission(actor, "opportunity:write")
    ids = {r["opportunity_id"] for r in rows}
    known: dict[int, list[StageHistory]] = {}
    for h in StageHistory.objects.filter(opportunity_id__in=ids).order_by("changed_at", "id"):
        known.setdefault(h.opportunity_id, []).append(h)
    new = []
    for r in sorted(rows, key=lambda r: (r["opportunity_id"], r["entered_at"])):
        entries = known.setdefault(r["opportunity_id"], [])
        if any(h.to_stage == r["stage"] and h.changed_at == r["entered_at"] for h in entries):
            continue
        before = [h for h in entries if h.changed_at <= r["entered_at"]]
        previous = before[-1] if before else None
        entry = StageHistory(
            opportunity_id=r["opportunity_id"], from_stage=previous.to_stage if previous else "", to_stage=r["stage"],
            changed_by=actor, changed_at=r["entered_at"], note="imported",
            days_in_previous_stage=_days_between(previous.changed_at, r["entered_at"]) if previous else None,
        )
        entries.append(entry)
        entries.sort(key=lambda h: h.changed_at)
        new.append(entry)
    StageHistory.objects.bulk_create(new, batch_size=1000)
    return len(new), len(rows) - len(new)


def deals_by_lead(lead_ids) -> dict[int, Opportunity]:
    """The deal each lead was converted into (the oldest, if several name it), with account and contacts.

    A system read for linking imported converted leads; the import's actor was checked on both records.
    """
    found: dict[int, Opportunity] = {}
    deals = (Opportunity.objects.filter(lead_id__in=list(lead_ids)).select_related("account")
             .prefetch_related("contacts").order_by("id"))
    for deal in deals:
        found.setdefault(deal.lead_id, deal)
    return found
