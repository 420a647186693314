"""Row locks: the one way a service locks the rows it is about to change.

Three rules, each learned from a deadlock:
- Lock only the queryset's own rows (`FOR ... OF self`). A plain `select_for_update()` with
  `select_related("stage")` (or a join that `restrict()` adds) also locks the stage, user or territory
  row the join reaches: rows every concurrent writer shares. Two deal moves then each hold one stage and
  wait for the other's (the foreign-key check of the new stage needs a share lock on it): a deadlock.
- Read no joined row in the locking statement. When a concurrent writer changed the row, PostgreSQL
  re-checks the new version against the joined rows it read first: a deal whose stage just moved no
  longer matches its old stage row and the lock returns nothing ("matching query does not exist").
  `select_related` is dropped here; read related rows after the lock (`prefetch_related`, or the
  attribute: it is read after the lock, so it is the current one).
- Lock in primary-key order, so two writers whose row sets overlap queue instead of deadlocking.
- A change that keeps the primary key takes `FOR NO KEY UPDATE` (what PostgreSQL's own UPDATE takes):
  it serialises the writers of a row but lets other transactions insert rows that reference it (a
  deal's stage history, an activity on it) and check foreign keys against it (every deal moving into a
  stage whose default an admin is changing). Only a transaction that will delete the rows takes the
  full `FOR UPDATE`.

SQLite has no row locks (Django ignores `select_for_update` there; a write transaction holds the
database), so all of this matters on PostgreSQL.
"""

from django.db.models import QuerySet


def rows_lock(queryset: QuerySet, *, deleting: bool = False, skip_locked: bool = False) -> QuerySet:
    """`queryset`'s rows, locked until the transaction ends, in primary-key order.

    Only the rows of the queryset's own table are read and locked; a `select_related` is dropped. `deleting=True` for rows
    the transaction will delete; `skip_locked=True` for a claim that leaves rows another transaction
    holds to it (a queue). Slice after this call, not before: the lock order is an ORDER BY.
    """
    return queryset.select_related(None).order_by("pk").select_for_update(of=("self",), no_key=not deleting, skip_locked=skip_locked)
