"""The record-access rule, applied in one place.

A user sees a record when they own it, when it lies in a territory they hold
(contributed by the territories app), when someone in their reporting subtree
owns it or holds its territory, or when it was explicitly shared with them.
Admins see everything; read-only users see but never write. Every selector,
list, search, export and dashboard goes through `restrict()`.

Apps declare how their models are owned with `register_model(...)`; apps that
add ways of seeing a record (territories) register a scope with
`register_scope(...)`. The kernel imports no app.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BigIntegerField, IntegerField, Model, Q, QuerySet
from django.db.models.functions import Cast

from salesapp.hierarchy import subtree_sql
from salesapp.models import RecordShare
from salesapp.roles import WRITE_ROLES, Role

VIEW, CHANGE, DELETE = "view", "change", "delete"


@dataclass(frozen=True)
class RecordRule:
    """How a model's records are reached: its owner field and territory field.

    `via` names a relation whose own rule decides instead (an activity is
    visible when the record it is linked to is): a dict of field -> model.
    """

    owner_field: str | None = "owner"
    territory_field: str | None = "territory"
    via: tuple[tuple[str, type[Model]], ...] = ()


Scope = Callable[[object, RecordRule], Q]

_rules: dict[type[Model], RecordRule] = {}
_scopes: list[Scope] = []


def register_model(model: type[Model], rule: RecordRule) -> None:
    """Declare how records of `model` are owned (called from AppConfig.ready)."""
    _rules[model] = rule


def register_scope(scope: Scope) -> None:
    """Add a way of seeing records, e.g. through held territories."""
    if scope not in _scopes:
        _scopes.append(scope)


def rule_for(model: type[Model]) -> RecordRule:
    try:
        return _rules[model]
    except KeyError:
        raise ImproperlyConfigured(f"{model.__name__} has no access rule; call register_model()") from None


def can_write(user) -> bool:
    """Whether the user's role may write at all (read_only never does)."""
    return bool(user and user.is_authenticated and user.is_active and user.role in WRITE_ROLES)


def visible_q(user, model: type[Model]) -> Q:
    """The Q that selects the records of `model` the user may see (non-admins)."""
    rule = rule_for(model)
    if rule.via:
        q = Q(pk__in=[])
        for field, target in rule.via:
            q |= Q(**{f"{field}__in": restrict(target._default_manager.all(), user).values("pk")})
        return q
    q = Q(pk__in=_shared_ids(user, model))
    if rule.owner_field:
        q |= Q(**{f"{rule.owner_field}__in": subtree_sql(user.pk)})
    for scope in _scopes:
        q |= scope(user, rule)
    return q


def _shared_ids(user, model):
    pk = model._meta.pk
    key_type = BigIntegerField() if isinstance(pk, IntegerField) else type(pk)()
    ct = ContentType.objects.get_for_model(model)
    return (
        RecordShare.objects.filter(user=user, content_type=ct)
        .annotate(key=Cast("object_id", output_field=key_type))
        .values("key")
    )


def restrict(queryset: QuerySet, user, action: str = VIEW) -> QuerySet:
    """Narrow `queryset` to what `user` may do `action` on (view, change, delete)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if action != VIEW and not can_write(user):
        return queryset.none()
    if user.role == Role.ADMIN:
        return queryset
    return queryset.filter(visible_q(user, queryset.model))
