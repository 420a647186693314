"""The reporting hierarchy: who reports to whom, at any depth. The one copy of the subtree rule.

A user's reporting subtree is the user and everyone below them through `manager`.
Every app reaches it from here: as a subquery (`subtree_sql`), as a CTE to
compose into larger statements (`subtree_cte`), as ids (`user_subtree_ids`), or,
for work over many users at once, as a `ReportingTree` loaded in one query.
"""

from collections import defaultdict

from django.db import connection
from django.db.models.expressions import RawSQL

from salesapp.models import User


def subtree_cte(name: str) -> str:
    """`name(id) AS (...)`: a recursive CTE of a user's subtree, taking the user's id as its one parameter."""
    t = User._meta.db_table
    # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
    return (f"{name}(id) AS (SELECT id FROM {t} WHERE id = %s"  # nosec B608
            f" UNION SELECT u.id FROM {t} u JOIN {name} s ON u.manager_id = s.id)")


def _subtree_select() -> str:
    # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
    return f"WITH RECURSIVE {subtree_cte('subtree')} SELECT id FROM subtree"  # nosec B608


def subtree_sql(user_id: int) -> RawSQL:
    """A subquery of the ids of a user and everyone below them (for `__in` filters)."""
    # Security review 2026-12-02 (bandit B611): the SQL is built from model metadata only; the user id is a bound parameter.
    return RawSQL(_subtree_select(), [user_id])  # nosec B611


def user_subtree_ids(user_id: int) -> list[int]:
    """Ids of the user and everyone who reports to them, directly or not: one SQL query."""
    with connection.cursor() as cursor:
        cursor.execute(_subtree_select(), [user_id])
        return [row[0] for row in cursor.fetchall()]


def user_ancestor_ids(user_id: int) -> list[int]:
    """The user's manager, their manager, and so on up, nearest first: one SQL query (loop-safe)."""
    t = User._meta.db_table
    # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
    sql = (f"WITH RECURSIVE up(id, depth) AS (SELECT manager_id, 1 FROM {t} WHERE id = %s"  # nosec B608
           f" UNION SELECT u.manager_id, up.depth + 1 FROM {t} u JOIN up ON u.id = up.id"
           f" WHERE up.depth < 100) SELECT id, MIN(depth) FROM up WHERE id IS NOT NULL AND id <> %s"
           " GROUP BY id ORDER BY MIN(depth)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, user_id])
        return [row[0] for row in cursor.fetchall()]


def would_create_cycle(user_id: int | None, manager_id: int | None) -> bool:
    """True when making `manager_id` the manager of `user_id` closes a loop."""
    if user_id is None or manager_id is None:
        return False
    return manager_id in user_subtree_ids(user_id)


class ReportingTree:
    """The whole reporting hierarchy loaded in one query, for work over many users (roll-ups)."""

    def __init__(self):
        self.children: dict[int, list[int]] = defaultdict(list)
        self.manager: dict[int, int | None] = {}
        for pk, manager_id in User.objects.order_by().values_list("pk", "manager_id"):
            self.manager[pk] = manager_id
            if manager_id:
                self.children[manager_id].append(pk)

    def subtree(self, user_id: int) -> list[int]:
        """The user and everyone below them, the user first (loop-safe)."""
        seen, stack, visited = [], [user_id], set()
        while stack:
            node = stack.pop()
            if node in visited:
                continue
            visited.add(node)
            seen.append(node)
            stack.extend(self.children.get(node, ()))
        return seen

    def ancestors(self, user_id: int) -> list[int]:
        """The user's manager, their manager, and so on up (loop-safe)."""
        found: list[int] = []
        current = self.manager.get(user_id)
        while current and current != user_id and current not in found:
            found.append(current)
            current = self.manager.get(current)
        return found
