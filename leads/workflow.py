"""The qualification state machine: the one place that says which status may follow which.

    new -> contacted -> qualified | unqualified
    qualified -> converted        (only through conversion)
    unqualified -> new            (reopen)
"""

from django.core.exceptions import ValidationError

from leads.models import Lead

S = Lead.Status

TRANSITIONS: dict[str, dict[str, str]] = {
    # from -> {to: the action's name, as buttons and the API call it}
    S.NEW: {S.CONTACTED: "contact"},
    S.CONTACTED: {S.QUALIFIED: "qualify", S.UNQUALIFIED: "disqualify"},
    S.QUALIFIED: {S.CONVERTED: "convert"},
    S.UNQUALIFIED: {S.NEW: "reopen"},
    S.CONVERTED: {},
}
ACTIONS = {"contact": S.CONTACTED, "qualify": S.QUALIFIED, "disqualify": S.UNQUALIFIED, "reopen": S.NEW,
           "convert": S.CONVERTED}
OPEN_STATUSES = (S.NEW, S.CONTACTED, S.QUALIFIED)


def allowed_targets(status: str) -> list[str]:
    return list(TRANSITIONS.get(status, {}))


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, {})


def check_transition(from_status: str, to_status: str) -> None:
    """Raise a ValidationError naming `status` unless the move is allowed."""
    if to_status not in S.values:
        raise ValidationError({"status": [f"Unknown status {to_status!r}."]})
    if not can_transition(from_status, to_status):
        allowed = ", ".join(S(t).label.lower() for t in allowed_targets(from_status)) or "nothing (it is final)"
        raise ValidationError({"status": [
            f"A {S(from_status).label.lower()} lead cannot become {S(to_status).label.lower()}; it can become: {allowed}."
        ]})


def actions_for(status: str) -> list[tuple[str, str]]:
    """(action, target status) pairs offered on a lead in `status`."""
    return [(name, to) for to, name in TRANSITIONS.get(status, {}).items()]
