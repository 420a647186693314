"""Territory reads: matching, hierarchy, members, holders, and restricted lists.

Other apps read territories only through this module.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.apps import apps
from django.core.cache import cache
from django.db import connection, models
from django.db.models import Count, Prefetch, Q, QuerySet

from territories.engine import RULE_FIELDS, TerritoryIndex, rules_in_words
from territories.models import Territory, TerritoryGroupGrant, TerritoryMember, TerritoryModel, TerritoryUserGrant

CACHE_KEY = "territory:assignments"
CACHE_TTL = 300
ACCESS_CODENAME = "access_territory"
ACCESS_PERM = f"territories.{ACCESS_CODENAME}"

# token -> compiled index of the active model, per process. The shared cache key
# holds the token: deleting it (territory events) makes every process recompile.
_local: dict[str, tuple[str, TerritoryIndex] | None] = {"entry": None}

INDEX_FIELDS = ("id", "name", "parent_id", "priority", "created_at", *RULE_FIELDS)


@dataclass(frozen=True)
class MatchResult:
    """The territory a record belongs to, every candidate considered, and why."""

    territory: Territory | None
    explanation: list = field(default_factory=list)
    reason: str = ""


def active_model() -> TerritoryModel | None:
    return TerritoryModel.objects.filter(state=TerritoryModel.State.ACTIVE).first()


def index_for_model(model_id: int, *, overrides: Mapping[int, Mapping] | None = None,
                    with_objects: bool = False) -> TerritoryIndex:
    """Compile the active territories of one model, with optional unsaved rule edits."""
    qs = Territory.objects.filter(model_id=model_id)
    objects = {}
    rows = []
    for t in qs:
        row = {name: getattr(t, name) for name in INDEX_FIELDS}
        row["is_active"] = t.is_active
        if overrides and t.id in overrides:
            row.update(overrides[t.id])
        if not row["is_active"]:
            continue
        rows.append(row)
        if with_objects:
            objects[t.id] = t
    return TerritoryIndex(rows, objects)


def assignment_index() -> TerritoryIndex:
    """The compiled index of the active model, rebuilt when `territory:assignments` changes."""
    token = cache.get(CACHE_KEY)
    if token is None:
        cache.add(CACHE_KEY, uuid.uuid4().hex, CACHE_TTL)
        token = cache.get(CACHE_KEY)
    entry = _local["entry"]
    if entry is not None and entry[0] == token:
        return entry[1]
    # The token is read before the rows: a change committed after this read
    # deletes the key, so the next call recompiles.
    model = active_model()
    index = index_for_model(model.id, with_objects=True) if model else TerritoryIndex([])
    _local["entry"] = (token, index)
    return index


def assignment_index_invalidate() -> None:
    cache.delete(CACHE_KEY)
    _local["entry"] = None


def territory_match(record: Mapping) -> MatchResult:
    """The active territory a lead, account or opportunity belongs to, with the explanation.

    `record` may carry country, state, postal_code, industry, employee_count,
    annual_revenue; missing or None values fail the rules that name them.
    """
    index = assignment_index()
    winner, explanation, reason = index.explain(record)
    territory = copy.copy(index.objects[winner.id]) if winner else None
    return MatchResult(territory=territory, explanation=explanation, reason=reason)


def territory_match_id(record: Mapping) -> int | None:
    """Only the winning territory id (the fastest path, for bulk work)."""
    return assignment_index().match_id(record)


# --- hierarchy --------------------------------------------------------------------

_T = Territory._meta.db_table
_SUBTREE = (
    f"WITH RECURSIVE sub(id) AS (SELECT id FROM {_T} WHERE id = %s"
    f" UNION SELECT c.id FROM {_T} c JOIN sub ON c.parent_id = sub.id) SELECT id FROM sub"
)


def territory_subtree_ids(territory_id: int) -> list[int]:
    """The territory and all its descendants (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_SUBTREE, [territory_id])
        return [row[0] for row in cursor.fetchall()]


def territory_ancestors(territory: Territory) -> list[Territory]:
    """Root first, excluding the territory itself."""
    chain, seen = [], {territory.pk}
    parent = territory.parent
    while parent is not None and parent.pk not in seen:
        chain.append(parent)
        seen.add(parent.pk)
        parent = parent.parent
    return list(reversed(chain))


# --- holders and access -----------------------------------------------------------

def held_territories_sql(user_id: int) -> tuple[str, list]:
    """SQL for the ids of territories the user or anyone below them holds, and their descendants.

    Holding: a guardian `access_territory` grant to the user or one of their
    groups, or owning the territory. One statement, indexed joins only.
    """
    from salesapp.models import User

    users = User._meta.db_table
    groups = User.groups.through._meta.db_table
    ug = TerritoryUserGrant._meta.db_table
    gg = TerritoryGroupGrant._meta.db_table
    perm = "auth_permission"
    sql = (
        "WITH RECURSIVE team(id) AS ("
        f" SELECT id FROM {users} WHERE id = %s"
        f" UNION SELECT u.id FROM {users} u JOIN team ON u.manager_id = team.id"
        "), seeds(id) AS ("
        f" SELECT g.content_object_id FROM {ug} g JOIN {perm} p ON p.id = g.permission_id"
        "  WHERE p.codename = %s AND g.user_id IN (SELECT id FROM team)"
        f" UNION SELECT g.content_object_id FROM {gg} g JOIN {perm} p ON p.id = g.permission_id"
        f"  JOIN {groups} m ON m.group_id = g.group_id"
        "  WHERE p.codename = %s AND m.user_id IN (SELECT id FROM team)"
        f" UNION SELECT t.id FROM {_T} t WHERE t.owner_id IN (SELECT id FROM team)"
        "), held(id) AS ("
        " SELECT id FROM seeds"
        f" UNION SELECT c.id FROM {_T} c JOIN held ON c.parent_id = held.id"
        ") SELECT id FROM held"
    )
    return sql, [user_id, ACCESS_CODENAME, ACCESS_CODENAME]


def held_territory_ids(user) -> list[int]:
    sql, params = held_territories_sql(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def territories_held_by(user) -> QuerySet[Territory]:
    """Territories the user holds directly: a grant to them or their groups, membership, or ownership."""
    return Territory.objects.filter(
        Q(user_grants__user=user, user_grants__permission__codename=ACCESS_CODENAME)
        | Q(group_grants__group__user=user, group_grants__permission__codename=ACCESS_CODENAME)
        | Q(owner=user)
    ).distinct().select_related("model")


def territory_members(territory) -> list[TerritoryMember]:
    """Active members of a territory, in a stable order (oldest membership first)."""
    tid = getattr(territory, "pk", territory)
    return list(
        TerritoryMember.objects.filter(territory_id=tid, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "id")
    )


def territory_grants(territory) -> dict:
    """Who was given access: users and groups (members included, as they hold it too)."""
    return {
        "users": list(
            TerritoryUserGrant.objects.filter(content_object=territory, permission__codename=ACCESS_CODENAME)
            .select_related("user").order_by("user__email")
        ),
        "groups": list(
            TerritoryGroupGrant.objects.filter(content_object=territory, permission__codename=ACCESS_CODENAME)
            .select_related("group").order_by("group__name")
        ),
    }


# --- lists for pages and the API ----------------------------------------------------

def territory_by_name(name: str) -> Territory | None:
    """The active territory of this name, in the active plan first (imports resolve names with it)."""
    qs = Territory.objects.filter(name__iexact=name, is_active=True)
    return qs.filter(model__state=TerritoryModel.State.ACTIVE).first() or qs.first()


def territory_list(*, user, model_id: int | None = None) -> QuerySet[Territory]:
    """Territories the user may see (restrict), newest model first."""
    qs = Territory.objects.select_related("owner", "parent", "model")
    if model_id:
        qs = qs.filter(model_id=model_id)
    return qs.restrict(user)


def territory_get(*, user, pk: int) -> Territory:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(territory_list(user=user), pk=pk)


def territory_model_list(*, user) -> QuerySet[TerritoryModel]:
    """Territory models (versions): planning information every territory reader sees."""
    return TerritoryModel.objects.annotate(territory_count=Count("territories"))


def record_counts(territory_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per territory: how many records of each kind point at it (leads, accounts, opportunities...).

    Found through the foreign keys other apps declare to Territory, so this app
    imports none of them. Everything in a territory is visible to whoever may see
    the territory, so the counts reveal nothing the viewer could not list.
    """
    counts: dict[int, dict[str, int]] = {tid: {} for tid in territory_ids}
    if not territory_ids:
        return counts
    for model in apps.get_models():
        if model._meta.app_label == "territories":
            continue
        for f in model._meta.get_fields():
            # Records assigned to a territory (SET_NULL: they outlive it), not the
            # territory's own planning data such as quotas (CASCADE).
            if (getattr(f, "many_to_one", False) and f.concrete and f.related_model is Territory
                    and f.name == "territory" and f.remote_field.on_delete is models.SET_NULL):
                label = str(model._meta.verbose_name_plural)
                rows = (
                    model._default_manager.filter(**{f"{f.name}__in": territory_ids})
                    .values_list(f.attname).annotate(n=Count("pk")).order_by()
                )
                for tid, n in rows:
                    counts[tid][label] = n
    return counts


def territory_tree(*, user, model: TerritoryModel) -> list[dict]:
    """The visible territories of a model as an ordered, indented tree with rules, members and counts."""
    territories = list(
        territory_list(user=user, model_id=model.pk).prefetch_related(
            Prefetch("members", queryset=TerritoryMember.objects.filter(user__is_active=True)
                     .select_related("user").order_by("created_at", "id"))
        )
    )
    ids = {t.pk for t in territories}
    counts = record_counts(list(ids))
    children: dict[int | None, list[Territory]] = {}
    for t in territories:
        parent = t.parent_id if t.parent_id in ids else None
        children.setdefault(parent, []).append(t)
    rows: list[dict] = []

    def walk(parent, depth):
        for t in sorted(children.get(parent, []), key=lambda x: (-x.priority, x.name)):
            words = rules_in_words({f: getattr(t, f) for f in RULE_FIELDS})
            rows.append({
                "territory": t, "depth": depth, "rules": words, "members": list(t.members.all()),
                "counts": counts.get(t.pk, {}), "has_children": bool(children.get(t.pk)),
            })
            walk(t.pk, depth + 1)

    walk(None, 0)
    return rows
