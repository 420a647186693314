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

The rule is a list of grants per model (`grants()`): SQL filters by them (`restrict()`), and a
search engine, which cannot join, gets the very same grants evaluated to plain id sets
(`visibility()`), so Elasticsearch filters inside the query by one rule, not a copy.

Speed: what a user reaches through people and territories (their reporting subtree, the
territories they or their team hold) is the same for every model and changes rarely, so it is
computed once per user (`user_reach()`), cached under one version (`ACCESS_VERSION_KEY`) that any
change of hierarchy, grant, group membership or territory bumps (`access_changed()`), and passed to
the query as arrays (`owner_id = ANY(%s)`, `territory_id = ANY(%s)`): the planner reads them as
constants and uses the owner and territory indexes, where correlated recursive subqueries cost
~10 ms a page at a million leads.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Lookup, Model, Q, QuerySet
from django.db.models.lookups import In
from django.db.models.signals import m2m_changed, post_delete, post_save

from salesapp import cache
from salesapp.hierarchy import user_subtree_ids
from salesapp.models import RecordShare, User
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

    `values` is a tuple of ids (the cached reach: subtree owners, held territories) or a lazy
    subquery (a QuerySet of one column). SQL filters by it (`restrict()`: an array, or the
    subquery as is); a search engine, which cannot join, gets the same values as ids
    (`visibility()`). Both come from the grants below, so the rule exists once.
    """

    field: str
    values: object


@dataclass(frozen=True)
class Scope:
    """A way of seeing records of every plain rule, e.g. through held territories.

    `ids(user_id)` gives the values (territory ids) that open a record whose field named by the
    rule's `rule_field` attribute ("territory_field") holds one of them. It is evaluated once per
    user and cached with the reporting subtree (`user_reach()`); whoever changes what it depends on
    calls `access_changed()`.
    """

    name: str
    rule_field: str
    ids: Callable[[int], list[int]]


@dataclass(frozen=True)
class Reach:
    """What a non-admin user reaches through people and places, the same for every model.

    `owners`: the user and everyone in their reporting subtree; `scoped`: per scope name, its ids;
    `shared`: per content type id, the ids of the records explicitly shared with the user.
    """

    owners: tuple[int, ...]
    scoped: dict[str, tuple[int, ...]]
    shared: dict[int, tuple[str, ...]]


ACCESS_VERSION_KEY = "access:version"
REACH_TTL = 600

_rules: dict[type[Model], RecordRule] = {}
_parents: dict[type[Model], list[ParentAccess]] = {}
_scopes: list[Scope] = []


class AnyOf(Lookup):
    """`field__any=[ids]`: the field's value is one of the ids, as one array parameter on PostgreSQL.

    `= ANY(%s)` keeps the statement the same whatever the number of ids (one bound array, one plan
    shape), and the planner uses an index on the field for it as for a constant list. Databases
    without arrays (SQLite) get the plain `IN (...)` list.
    """

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", [*lhs_params, list(self.rhs)]


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


def register_scope(name: str, *, rule_field: str, ids: Callable[[int], list[int]]) -> None:
    """Add a way of seeing records, e.g. through held territories (see `Scope`)."""
    if all(scope.name != name for scope in _scopes):
        _scopes.append(Scope(name, rule_field, ids))


def access_changed() -> None:
    """Retire every cached reach: the hierarchy, a grant, a group membership or a territory changed.

    Bumped now (this transaction's later reads) and again after commit: a reach another process
    computed from the old rows meanwhile and stored under the new version would otherwise live on.
    """
    cache.version_bump(ACCESS_VERSION_KEY)
    transaction.on_commit(lambda: cache.version_bump(ACCESS_VERSION_KEY))


def _user_changed(sender, instance, update_fields=None, **kwargs) -> None:
    # The reporting line, activity and role decide whose records a user's managers and teams reach.
    if update_fields is None or {"manager", "is_active", "role"} & set(update_fields):
        access_changed()


def _membership_changed(sender, action, **kwargs) -> None:
    # Group membership opens the territories granted to the group.
    if action in ("post_add", "post_remove", "post_clear"):
        access_changed()


def connect_access_invalidation() -> None:
    """Users' hierarchy and group changes retire cached reaches (apps connect what their scopes read)."""
    post_save.connect(_user_changed, sender=User, dispatch_uid="access-user-save")
    post_delete.connect(lambda **kwargs: access_changed(), sender=User, weak=False, dispatch_uid="access-user-delete")
    m2m_changed.connect(_membership_changed, sender=User.groups.through, dispatch_uid="access-user-groups")
    for signal in (post_save, post_delete):
        signal.connect(lambda **kwargs: access_changed(), sender=RecordShare, weak=False,
                       dispatch_uid=f"access-share-{signal}")


def user_reach(user) -> Reach:
    """The user's reporting subtree and scope ids: one cache read, or one query per part when stale."""
    version = cache.version(ACCESS_VERSION_KEY)
    memo = getattr(user, "_access_reach", None)
    if memo is not None and memo[0] == version:
        return memo[1]
    key = f"access:reach:2:{user.pk}:{version}"  # 2: the shape of Reach
    reach = cache.get(key)
    if reach is None:
        shared: dict[int, list[str]] = {}
        for ct_id, object_id in RecordShare.objects.filter(user_id=user.pk).values_list("content_type_id", "object_id"):
            shared.setdefault(ct_id, []).append(object_id)
        reach = Reach(owners=tuple(user_subtree_ids(user.pk)),
                      scoped={scope.name: tuple(scope.ids(user.pk)) for scope in _scopes},
                      shared={ct_id: tuple(ids) for ct_id, ids in shared.items()})
        cache.set(key, reach, REACH_TTL)
    user._access_reach = (version, reach)
    return reach


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
    reach = user_reach(user)
    found = [Grant("pk", _shared_ids(reach, model))]
    if rule.owner_field:
        found.append(Grant(rule.owner_field, reach.owners))
    for scope in _scopes:
        if field_name := getattr(rule, scope.rule_field):
            found.append(Grant(field_name, reach.scoped[scope.name]))
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
        q = reduce(or_, (_grant_q(g) for g in grants(user, model, action)), Q(pk__in=[]))
    if rule.narrow is not None:
        q &= rule.narrow(user, action)
    return q


def _grant_q(grant: Grant) -> Q:
    # Id sets go to the database as one array (an empty one opens nothing, so it is left out: the
    # planner estimates constants well but not an always-false branch); subqueries stay subqueries.
    if isinstance(grant.values, tuple):
        return Q(**{f"{grant.field}__any": grant.values}) if grant.values else Q(pk__in=[])
    return Q(**{f"{grant.field}__in": grant.values})


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
    """The ids a grant selects (a tuple of ids, a one-column `.values(...)` QuerySet, or RawSQL)."""
    if isinstance(values, tuple):
        return list(values)
    if isinstance(values, QuerySet):
        return [next(iter(row.values())) for row in values]
    with connection.cursor() as cursor:
        cursor.execute(values.sql, values.params)
        return [row[0] for row in cursor.fetchall()]


def _shared_ids(reach: Reach, model) -> tuple:
    # A share names its record by text (any model's key); an integer key that is no number names no record.
    ct = ContentType.objects.get_for_model(model)
    return tuple(int(key) for key in reach.shared.get(ct.pk, ()) if key.isdigit())


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
