"""Whom a record may be given to, and under which territory: one policy for every form, API and service.

- An admin may pick any active user who may write (admin, sales manager, sales rep).
- A sales manager may pick anyone active in their reporting subtree, themselves included.
- A sales rep may pick only themselves.
- A read-only user picks nobody, and is never picked.
- A territory may be picked only among the territories the actor can see.

Services call the checks when the acting user *changes* an owner or a territory
(a record saved back with its current owner is not re-judged), and forms and
API serializers offer `assignable_users(actor)` as their choices. System work
(routing, realignment, consumers) runs with no actor and is not judged here.
A refused pick is a ValidationError naming the field, which the API answers as 400.
"""

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet

from salesapp.access import VIEW
from salesapp.hierarchy import subtree_sql
from salesapp.models import User
from salesapp.roles import WRITE_ROLES, Role


def assignable_users(actor) -> QuerySet[User]:
    """The active writers `actor` may give a record to, by name."""
    writers = User.objects.filter(is_active=True, role__in=[r.value for r in WRITE_ROLES]).order_by(
        "first_name", "last_name", "email")
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return writers.none()
    if actor.role == Role.ADMIN:
        return writers
    if actor.role == Role.SALES_MANAGER:
        return writers.filter(pk__in=subtree_sql(actor.pk))
    if actor.role == Role.SALES_REP:
        return writers.filter(pk=actor.pk)
    return writers.none()


def assignee_check(*, actor, assignee, field: str) -> None:
    """Refuse, naming `field`, an owner `actor` may not give a record to (None means unassigned: allowed)."""
    if assignee is None:
        return
    if not assignee.is_active:
        raise ValidationError({field: [f"{assignee} is inactive and cannot be given records."]})
    if assignee.role not in WRITE_ROLES:
        raise ValidationError({field: [f"{assignee} has a read-only role and cannot own records."]})
    if not assignable_users(actor).filter(pk=assignee.pk).exists():
        raise ValidationError({field: [_refusal(actor)]})


def territory_check(*, actor, territory: Model | None, field: str) -> None:
    """Refuse, naming `field`, a territory `actor` cannot see (None means no territory: allowed)."""
    if territory is None:
        return
    if not type(territory).objects.restrict(actor, VIEW).filter(pk=territory.pk).exists():
        raise ValidationError({field: [f"No territory with id {territory.pk}, or you may not see it."]})


def _refusal(actor) -> str:
    if actor is not None and actor.role == Role.SALES_MANAGER:
        return "You can give records only to yourself or people who report to you."
    if actor is not None and actor.role == Role.SALES_REP:
        return "You can give records only to yourself."
    return "Your role may not give records to anyone."
