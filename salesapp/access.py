"""The record-access rule: one registered rule per model, reached as `Model.objects.restrict(user, action)`.

A user sees a record when they own it, when it lies in a territory they hold
(contributed by the territories app), when someone in their reporting subtree
owns it or holds its territory, or when it was explicitly shared with them.
Admins see everything; read-only users see but never write.

Implicit parent access (as Salesforce does it): whoever may see a child record
may *read* the parents registered with `register_parent_access` (a deal's or a
lead's account); it never opens the children of a parent, and never lets
anyone change the parent.

Every domain model's manager is a `RestrictedManager` (salesapp.querysets); its `restrict()` is
the only way views, API views, selectors, exports, search, dashboards and
timelines read domain records (a test walks those modules). Apps declare the
rule of each model with `register_model(...)` in `AppConfig.ready()`; apps that
add ways of seeing a record (territories) register a scope with
`register_scope(...)`. The kernel imports no app.

The rule is a list of grants per model (`grants()`): SQL filters by them as subqueries
(`restrict()`), and a search engine, which cannot join, gets the very same grants evaluated to
plain id sets (`visibility()`), so Elasticsearch filters inside the query by one rule, not a copy.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import BigIntegerField, IntegerField, Model, Q, QuerySet
from django.db.models.functions import Cast

from salesapp.hierarchy import subtree_sql
from salesapp.models import RecordShare
from salesapp.querysets import RestrictedQuerySet
from salesapp.roles import WRITE_ROLES, Role

VIEW, CHANGE, DELETE = "view", "change", "delete"
ACTIONS = (VIEW, CHANGE, DELETE)


@dataclass(frozen=True)
class RecordRule:
    """How a model's records are reached.

    - `owner_field` / `territory_field`: the record's owner and territory (either may be None);
      owners, their managers' subtree, territory holders and explicit shares see the record.
    - `via`: (field, model) pairs whose own rule decides instead: the record is visible
      when any record it points to through `field` is (a contact through its account).
    - `q`: a function (user, action) -> Q for records whose rule is neither of the above
      (an activity decided by the most specific record it is linked to). It is the rule.
    - `narrow`: a function (user, action) -> Q that every non-admin's records must also match
      (draft quotas are seen only by those who set quotas).
    """

    owner_field: str | None = "owner"
    territory_field: str | None = "territory"
    via: tuple[tuple[str, type[Model]], ...] = ()
    q: Callable[[object, str], Q] | None = None
    narrow: Callable[[object, str], Q] | None = None


@dataclass(frozen=True)
class ParentAccess:
    """Readers of `child` records may read the `parent` record its `field` points to."""

    child: type[Model]
    field: str


@dataclass(frozen=True)
class Grant:
    """One way a user reaches records: those whose `field` ("pk" or a field of the model) is among `values`.

    `values` is a lazy subquery (a QuerySet of one column, or RawSQL). SQL filters by it as is
    (`restrict()`); a search engine, which cannot join, gets the same subquery evaluated to ids
    (`visibility()`). Both come from the grants below, so the rule exists once.
    """

    field: str
    values: object


# A scope adds grants to every plain rule (owner/territory fields), e.g. through held territories.
Scope = Callable[[object, RecordRule], list[Grant]]

_rules: dict[type[Model], RecordRule] = {}
_parents: dict[type[Model], list[ParentAccess]] = {}
_scopes: list[Scope] = []


def register_model(model: type[Model], rule: RecordRule) -> None:
    """Declare how records of `model` are reached (called once, from AppConfig.ready)."""
    if not isinstance(model._default_manager.all(), RestrictedQuerySet):
        raise ImproperlyConfigured(f"{model.__name__}.objects must be a RestrictedManager to take an access rule")
    _rules[model] = rule


def register_parent_access(parent: type[Model], *, child: type[Model], field: str) -> None:
    """Whoever may see a `child` may read the `parent` its `field` points to (read only)."""
    grant = ParentAccess(child, field)
    if grant not in _parents.setdefault(parent, []):
        _parents[parent].append(grant)


def register_scope(scope: Scope) -> None:
    """Add a way of seeing records, e.g. through held territories."""
    if scope not in _scopes:
        _scopes.append(scope)


def rule_for(model: type[Model]) -> RecordRule:
    try:
        return _rules[model]
    except KeyError:
        raise ImproperlyConfigured(f"{model.__name__} has no access rule; call register_model()") from None


def registered_models() -> list[type[Model]]:
    """Every model that has an access rule (the domain models)."""
    return list(_rules)


def can_write(user) -> bool:
    """Whether the user's role may write at all (read_only never does)."""
    return bool(user and user.is_authenticated and user.is_active and user.role in WRITE_ROLES)


def grants(user, model: type[Model], action: str = VIEW) -> list[Grant]:
    """The ways a non-admin `user` reaches records of `model` for `action`, from its registered rule.

    Owners and their managers' subtree, scopes (held territories), explicit shares, the
    records pointed to through `via`, and, for viewing, implicit parent access. Models whose
    rule is a custom `q` have no grants (their Q is the rule).
    """
    rule = rule_for(model)
    if rule.q is not None:
        return []
    if rule.via:
        return [Grant(field, target.objects.restrict(user, action).values("pk")) for field, target in rule.via]
    found = [Grant("pk", _shared_ids(user, model))]
    if rule.owner_field:
        found.append(Grant(rule.owner_field, subtree_sql(user.pk)))
    for scope in _scopes:
        found.extend(scope(user, rule))
    if action == VIEW:
        for grant in _parents.get(model, ()):
            found.append(Grant("pk", grant.child.objects.restrict(user, VIEW)
                               .filter(**{f"{grant.field}__isnull": False}).values(grant.field)))
    return found


def visible_q(user, model: type[Model], action: str = VIEW) -> Q:
    """The Q that selects the records of `model` a non-admin user may do `action` on."""
    rule = rule_for(model)
    if rule.q is not None:
        q = rule.q(user, action)
    else:
        q = reduce(or_, (Q(**{f"{g.field}__in": g.values}) for g in grants(user, model, action)), Q(pk__in=[]))
    if rule.narrow is not None:
        q &= rule.narrow(user, action)
    return q


@dataclass(frozen=True)
class Visibility:
    """What a user may see of one model, as plain id sets, for engines that cannot join (Elasticsearch).

    `everything` for admins; otherwise a record is visible when, for any field in `ids`, the
    record's value of that field is in the set: "pk" holds explicit shares and implicit parent
    access, the owner field the reporting subtree, the territory field the held territories,
    a `via` field (a contact's account) the ids visible of the model it points to.
    """

    everything: bool = False
    ids: dict = field(default_factory=dict)

    def get(self, name: str) -> frozenset:
        return self.ids.get(name, frozenset())


def visibility(user, model: type[Model], action: str = VIEW) -> Visibility:
    """The records of `model` that `user` may do `action` on, as id sets (the same grants `restrict()` filters by).

    A model whose rule is a custom `q` or carries a `narrow` has no id-set form: asking is a programming error.
    """
    rule = rule_for(model)
    if rule.q is not None or rule.narrow is not None:
        raise ImproperlyConfigured(f"{model.__name__}'s access rule has no id-set form (custom q or narrow)")
    if user is None or not user.is_authenticated or not user.is_active:
        return Visibility()
    if action != VIEW and not can_write(user):
        return Visibility()
    if user.role == Role.ADMIN:
        return Visibility(everything=True)
    found: dict[str, set] = {}
    for grant in grants(user, model, action):
        found.setdefault(grant.field, set()).update(_evaluate(grant.values))
    return Visibility(ids={name: frozenset(values) for name, values in found.items()})


def _evaluate(values) -> list:
    """The ids a grant's subquery selects (a one-column `.values(...)` QuerySet, or RawSQL)."""
    if isinstance(values, QuerySet):
        return [next(iter(row.values())) for row in values]
    with connection.cursor() as cursor:
        cursor.execute(values.sql, values.params)
        return [row[0] for row in cursor.fetchall()]


def _shared_ids(user, model):
    pk = model._meta.pk
    key_type = BigIntegerField() if isinstance(pk, IntegerField) else type(pk)()
    ct = ContentType.objects.get_for_model(model)
    return (
        RecordShare.objects.filter(user=user, content_type=ct)
        .annotate(key=Cast("object_id", output_field=key_type))
        .values("key")
    )


def restrict_queryset(queryset: QuerySet, user, action: str = VIEW) -> QuerySet:
    """Narrow `queryset` to the records `user` may do `action` on; reached as `queryset.restrict(user, action)`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    rule_for(queryset.model)  # an unregistered model is a start-up error, even for admins
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if action != VIEW and not can_write(user):
        return queryset.none()
    if user.role == Role.ADMIN:
        return queryset
    return queryset.filter(visible_q(user, queryset.model, action))
