"""Writes for forecasts: a seller's call, a manager's adjustment, the weekly snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opportunities.models import ForecastAdjustment, ForecastSnapshot, ForecastSubmission
from opportunities.periods import month_of, parse_period, quarter_of, week_start
from opportunities.selectors import forecast_rollup
from salesapp.guards import require_permission
from salesapp.models import User
from salesapp.roles import Role
from salesapp.selectors import user_list


def _money(value, field):
    try:
        value = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: ["Enter an amount."]})
    if value < 0:
        raise ValidationError({field: ["Must not be negative."]})
    return value


@transaction.atomic
def forecast_submit(*, actor, period: str, commit, best_case, notes: str = "", submitted_at=None) -> ForecastSubmission:
    """Record the actor's forecast call for a period (their own deals, or their subtree for managers)."""
    require_permission(actor, "opportunity:write")
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
    require_permission(actor, "forecast:adjust")
    p = parse_period(period)
    errors = {}
    if category not in ForecastAdjustment.Category.values:
        errors["category"] = ["Adjust 'commit' or 'best_case'."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why you adjust the forecast."]
    if actor.role != Role.ADMIN and (user.pk == actor.pk or not user_list(user=actor).filter(pk=user.pk).exists()):
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
    today = today or timezone.localdate()
    names = period_names or [quarter_of(today).name, month_of(today).name]
    week = week_start(today)
    # A system read of everyone's figures: the roll-up as an (unsaved) admin sees it.
    admin_view = User(role=Role.ADMIN, is_active=True)
    users = list(User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN])
                 .values("id", "manager_id"))
    managers = {u["manager_id"] for u in users if u["manager_id"]}
    count = 0
    for name in names:
        for u in users:
            rollup = forecast_rollup(user=admin_view, period=name, user_id=u["id"])
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
