"""Territory reads: hierarchy, members, holders, and the restricted lists of pages and the API.

Other apps read territories through this module, and match records to
territories through territories.matching (a system read). Lists take the user
and go through restrict(); the hierarchy walk and the member list are system
reads too (attainment, routing), marked as such.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from salesapp.access import VIEW
from salesapp.hierarchy import subtree_cte
from salesapp.models import User
from salesapp.roles import Role
from territories.engine import RULE_FIELDS, compile_row, normalize_record, rule_checks, rules_in_words
from territories.models import (
    RealignmentJob,
    Territory,
    TerritoryGroupGrant,
    TerritoryMember,
    TerritoryModel,
    TerritoryUserGrant,
)
from territories.providers import providers

ACCESS_CODENAME = "access_territory"
ACCESS_PERM = f"territories.{ACCESS_CODENAME}"

# --- hierarchy --------------------------------------------------------------------

_T = Territory._meta.db_table
_SUBTREE = (
    # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
    f"WITH RECURSIVE sub(id) AS (SELECT id FROM {_T} WHERE id = %s"  # nosec B608
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
        # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
        f"WITH RECURSIVE {subtree_cte('team')}"  # nosec B608
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

def territory_list(*, user, model_id: int | None = None, active_plan: bool = False,
                   action: str = VIEW) -> QuerySet[Territory]:
    """Territories the user may see (or change), of one model or of the plan in force; owner, parent, model joined."""
    qs = Territory.objects.restrict(user, action).select_related("owner", "parent", "model")
    if model_id:
        qs = qs.filter(model_id=model_id)
    if active_plan:
        qs = qs.filter(model__state=TerritoryModel.State.ACTIVE)
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


def territory_names(*, user, ids) -> dict[int, str]:
    """Names of the territories among `ids` the user may see (for facet labels)."""
    return dict(Territory.objects.restrict(user, VIEW).filter(pk__in=ids).values_list("pk", "name"))


# The admin's live count reads at most this many open records of each kind (it answers as you type).
RULE_COUNT_SCAN = 50_000


def rule_match_counts(rules: dict) -> list[dict]:
    """How many open records of each registered kind (leads, accounts, deals) a set of rules matches,
    judged by the territory engine's own rule checks; `complete` is False when a kind has more records
    than the count reads (RULE_COUNT_SCAN), and the count is then of the first ones."""
    compiled = compile_row({"id": 0, **rules})
    counts = []
    for provider in providers().values():
        matched = scanned = 0
        for batch in provider.iter_candidates(batch_size=5000):
            for _pk, attrs, _territory in batch:
                checks = rule_checks(compiled, normalize_record(attrs))
                matched += all(check["matched"] for check in checks)
            scanned += len(batch)
            if scanned >= RULE_COUNT_SCAN:
                break
        counts.append({"label": provider.label, "count": matched, "complete": scanned < RULE_COUNT_SCAN})
    return counts
