"""The reporting hierarchy: who reports to whom, at any depth, in one query."""

from django.db import connection
from django.db.models.expressions import RawSQL

from salesapp.models import User

_SUBTREE_SQL = (
    "WITH RECURSIVE subtree(id) AS ("
    " SELECT id FROM {t} WHERE id = %s"
    " UNION SELECT u.id FROM {t} u JOIN subtree s ON u.manager_id = s.id"
    ") SELECT id FROM subtree"
)


def subtree_sql(user_id: int) -> RawSQL:
    """A subquery of the ids of a user and everyone below them (for `__in` filters)."""
    return RawSQL(_SUBTREE_SQL.format(t=User._meta.db_table), [user_id])


def user_subtree_ids(user_id: int) -> list[int]:
    """Ids of the user and everyone who reports to them, directly or not: one SQL query."""
    with connection.cursor() as cursor:
        cursor.execute(_SUBTREE_SQL.format(t=User._meta.db_table), [user_id])
        return [row[0] for row in cursor.fetchall()]


def would_create_cycle(user_id: int | None, manager_id: int | None) -> bool:
    """True when making `manager_id` the manager of `user_id` closes a loop."""
    if user_id is None or manager_id is None:
        return False
    return manager_id in user_subtree_ids(user_id)
