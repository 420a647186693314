"""Territory reads: matching, hierarchy, members, holders, and restricted lists.

Other apps read territories only through this module. Lists for pages and the
API take the user and go through restrict(); the matching index, the hierarchy
walks and the member list are system reads (routing, realignment, imports),
marked as such.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from salesapp.access import VIEW
from salesapp.hierarchy import subtree_cte
from salesapp.models import User
from salesapp.roles import Role
from territories.engine import RULE_FIELDS, TerritoryIndex, rules_in_words
from territories.models import (
    RealignmentJob,
    Territory,
    TerritoryGroupGrant,
    TerritoryMember,
    TerritoryModel,
    TerritoryUserGrant,
)
from territories.providers import providers

CACHE_KEY = "territory:assignments"
CACHE_TTL = 300
ACCESS_CODENAME = "access_territory"
ACCESS_PERM = f"territories.{ACCESS_CODENAME}"

# token -> compiled index of the active model, per process. The shared cache key
# holds the token: deleting it (every territory write, after commit) makes every process recompile.
_local: dict[str, tuple[str, TerritoryIndex] | None] = {"entry": None}

INDEX_FIELDS = ("id", "name", "parent_id", "priority", "created_at", *RULE_FIELDS)


@dataclass(frozen=True)
class MatchResult:
    """The territory a record belongs to, every candidate considered, and why."""

    territory: Territory | None
    explanation: list = field(default_factory=list)
    reason: str = ""


def active_model() -> TerritoryModel | None:
    """The plan in force. System read (matching, imports): no user."""
    return TerritoryModel.objects.filter(state=TerritoryModel.State.ACTIVE).first()


def index_for_model(model_id: int, *, overrides: Mapping[int, Mapping] | None = None,
                    with_objects: bool = False) -> TerritoryIndex:
    """Compile the active territories of one model, with optional unsaved rule edits.

    System read (matching, realignment): no user.
    """
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
    """Drop the compiled index here and, through the shared key, in every process."""
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
    """The territory and all its descendants (one query). System read (attainment, pipeline filters): no user."""
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
    groups, or owning the territory. One statement, indexed joins only; the
    team is the kernel's reporting subtree.
    """
    groups = User.groups.through._meta.db_table
    ug = TerritoryUserGrant._meta.db_table
    gg = TerritoryGroupGrant._meta.db_table
    perm = "auth_permission"
    sql = (
        f"WITH RECURSIVE {subtree_cte('team')}"
        ", seeds(id) AS ("
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


def territories_held_by(*, user) -> QuerySet[Territory]:
    """Territories the user holds directly: a grant to them or their groups, membership, or ownership."""
    return Territory.objects.restrict(user, VIEW).filter(
        Q(user_grants__user=user, user_grants__permission__codename=ACCESS_CODENAME)
        | Q(group_grants__group__user=user, group_grants__permission__codename=ACCESS_CODENAME)
        | Q(owner=user)
    ).distinct().select_related("model")


def territory_members(territory: Territory) -> list[TerritoryMember]:
    """Active members of a territory, in a stable order (oldest membership first).

    System read (routing) as well as the territory page's: the caller already reached the territory.
    """
    return list(
        TerritoryMember.objects.filter(territory_id=territory.pk, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "id")
    )


def territory_grants(territory: Territory) -> dict:
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
    """The active territory of this name, in the active plan first.

    System read: the import runner resolves names with it and judges the pick itself.
    """
    qs = Territory.objects.filter(name__iexact=name, is_active=True)
    return qs.filter(model__state=TerritoryModel.State.ACTIVE).first() or qs.first()


def territory_list(*, user, model_id: int | None = None, action: str = VIEW) -> QuerySet[Territory]:
    """Territories the user may see (or change), owner, parent and model joined."""
    qs = Territory.objects.restrict(user, action).select_related("owner", "parent", "model")
    if model_id:
        qs = qs.filter(model_id=model_id)
    return qs


def territory_get(*, user, pk: int, action: str = VIEW) -> Territory:
    """One territory the user may see (or change); 404 otherwise."""
    return get_object_or_404(territory_list(user=user, action=action), pk=pk)


def territory_model_list(*, user, action: str = VIEW) -> QuerySet[TerritoryModel]:
    """Territory models (versions of the plan) the user may see or change, with their territory counts."""
    return TerritoryModel.objects.restrict(user, action).annotate(territory_count=Count("territories"))


def territory_model_get(*, user, pk: int, action: str = VIEW) -> TerritoryModel:
    """One territory model the user may see (or change); 404 otherwise."""
    return get_object_or_404(territory_model_list(user=user, action=action), pk=pk)


def realignment_job_list(*, user, action: str = VIEW) -> QuerySet[RealignmentJob]:
    """Realignment jobs the user may see (or apply): planners only."""
    return RealignmentJob.objects.restrict(user, action).select_related("model", "created_by", "applied_by")


def realignment_job_get(*, user, pk: int, action: str = VIEW) -> RealignmentJob:
    """One realignment job the user may see (or apply); 404 otherwise."""
    return get_object_or_404(realignment_job_list(user=user, action=action), pk=pk)


def move_labels_shown(*, user) -> bool:
    """A realignment job spans every record: the names of the records it moves are shown to admins only."""
    return user.role == Role.ADMIN


def record_counts(territory_ids: list[int], *, user) -> dict[int, dict[str, int]]:
    """Per territory: how many records of each registered kind the user may see lie in it.

    The kinds are those the owning apps registered as realignment providers
    (leads, accounts, open opportunities); each counts through its own access rule.
    """
    counts: dict[int, dict[str, int]] = {tid: {} for tid in territory_ids}
    if not territory_ids:
        return counts
    for provider in providers().values():
        for tid, n in provider.territory_counts(list(territory_ids), user=user).items():
            if n:
                counts[tid][provider.label] = n
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
    counts = record_counts(list(ids), user=user)
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
