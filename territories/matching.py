"""Matching records to territories: the compiled rules of the plan in force, cached per process.

System reads with no user (routing, record creation, realignment, imports, the
match tool): a record's territory is a fact of the rules, whoever asks. The
compiled index is dropped by every territory write (territories.services).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field

from salesapp import cache
from territories.engine import RULE_FIELDS, TerritoryIndex
from territories.models import Territory, TerritoryModel

CACHE_KEY = "territory:assignments"
CACHE_TTL = 300

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
    """The plan in force."""
    return TerritoryModel.objects.filter(state=TerritoryModel.State.ACTIVE).first()


def index_for_model(model_id: int, *, overrides: Mapping[int, Mapping] | None = None,
                    with_objects: bool = False) -> TerritoryIndex:
    """Compile the active territories of one model, with optional unsaved rule edits (realignment previews)."""
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
    token = cache.version(CACHE_KEY, CACHE_TTL)  # while the cache is unavailable: a new token, so a fresh index
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



def territory_by_name(name: str) -> Territory | None:
    """The active territory of this name, in the active plan first (the import runner resolves names with it
    and judges the pick itself)."""
    qs = Territory.objects.filter(name__iexact=name, is_active=True)
    return qs.filter(model__state=TerritoryModel.State.ACTIVE).first() or qs.first()
