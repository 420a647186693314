"""Quarterly range partitions of the tables that grow without bound (PostgreSQL only).

A partitioned table is split by a timestamp column into one partition per calendar quarter
(`<table>_y2026q1` holds [2026-01-01, 2026-04-01)), plus a default partition that only catches what no
quarter was made for. Calendar, not fiscal, quarters: storage does not move when the fiscal year does.
- `partitions_ensure` (beat, daily) makes the current quarter and PARTITION_QUARTERS_AHEAD quarters ahead,
  so a row never lands in the default partition (a quarter cannot be made once the default holds its rows).
- `partitions_drop_before` drops whole quarters older than a cutoff: a purge of a quarter is a DROP
  TABLE, not millions of DELETEs and the vacuum after them.
Which tables are partitioned is listed once, in PARTITIONED (table -> column): the kernel's own here, an
app's by `register_partitioned` from its AppConfig.ready. Converting a table is a migration
(`partition_table`); deals are not partitioned: see the README ("Partitioning").
SQLite (the embedded default) has no partitions: these functions do nothing there.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import connection, transaction

# table -> the timestamp column its quarters follow
PARTITIONED = {"salesapp_dataaccess": "at"}


def register_partitioned(table: str, column: str) -> None:
    """Put an app's partitioned table under `partitions_ensure` (from its AppConfig.ready)."""
    PARTITIONED[table] = column
_NAME = re.compile(r"_y(\d{4})q([1-4])$")


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(start: dt.date) -> dt.date:
    return dt.date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def _partition_name(table: str, start: dt.date) -> str:
    return f"{table}_y{start.year}q{(start.month - 1) // 3 + 1}"


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def partitions_of(table: str) -> list[str]:
    """The table's partitions, by name (the default partition last)."""
    if not _on_postgresql():
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                       "WHERE i.inhparent = %s::regclass ORDER BY c.relname", [table])
        return [name for (name,) in cursor.fetchall()]


def _create_quarter(cursor, table: str, column: str, start: dt.date) -> str:
    name = _partition_name(table, start)
    # Security review 2026-12-02 (bandit B608): only table and column names from migrations and PARTITIONED are interpolated.
    cursor.execute(f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" '  # nosec B608
                   f"FOR VALUES FROM ('{start.isoformat()}') TO ('{_next_quarter(start).isoformat()}')")
    return name


def partitions_ensure(*, today: dt.date | None = None, ahead: int | None = None) -> list[str]:
    """Make the current quarter's partition and `ahead` more (default PARTITION_QUARTERS_AHEAD) for every
    partitioned table; answers the partitions there now."""
    if not _on_postgresql():
        return []
    ahead = settings.PARTITION_QUARTERS_AHEAD if ahead is None else ahead
    start = _quarter_start(today or dt.date.today())
    with transaction.atomic(), connection.cursor() as cursor:
        for table, column in PARTITIONED.items():
            quarter = start
            for _ in range(ahead + 1):
                _create_quarter(cursor, table, column, quarter)
                quarter = _next_quarter(quarter)
    return [name for table in PARTITIONED for name in partitions_of(table)]


def partitions_drop_before(table: str, cutoff: dt.datetime) -> int:
    """Drop the table's quarters that end on or before `cutoff` (their rows are all older); answers how many rows
    went with them."""
    dropped = 0
    for name in partitions_of(table):
        match = _NAME.search(name)
        if not match:
            continue  # the default partition: its rows are purged row by row
        start = dt.date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
        if _next_quarter(start) <= cutoff.date():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{name}"')
                # Security review 2026-12-02 (bandit B608): the name is one of the table's own partitions (pg_inherits).
                cursor.execute(f'SELECT count(*) FROM "{name}"')  # nosec B608
                dropped += cursor.fetchone()[0]
                cursor.execute(f'DROP TABLE "{name}"')
    return dropped


def partition_table(schema_editor, table: str, column: str, *, unique_with: str = "id") -> None:
    """Turn `table` into a table partitioned by quarter on `column`, rows kept (a migration's step,
    PostgreSQL only).

    PostgreSQL wants the partition column in every unique key, so the primary key becomes
    (`unique_with`, column); ids still come from the one identity sequence, so Django's `pk` stays unique.
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    old = f"{table}_unpartitioned"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cursor.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING IDENTITY '
                       f"INCLUDING GENERATED) PARTITION BY RANGE ({column})")
        cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        # Security review 2026-12-02 (bandit B608): only table and column names from migrations and PARTITIONED are interpolated.
        cursor.execute(f'SELECT min({column})::date FROM "{old}"')  # nosec B608
        first = cursor.fetchone()[0] or dt.date.today()
        quarter, last = _quarter_start(first), _quarter_start(dt.date.today())
        for _ in range(settings.PARTITION_QUARTERS_AHEAD):
            last = _next_quarter(last)
        while quarter <= last:
            _create_quarter(cursor, table, column, quarter)
            quarter = _next_quarter(quarter)
        # Security review 2026-12-02 (bandit B608): only table and column names from migrations and PARTITIONED are interpolated.
        cursor.execute(f'INSERT INTO "{table}" OVERRIDING SYSTEM VALUE SELECT * FROM "{old}"')  # nosec B608
        # The identity sequence carries on from the last id, never reusing one.
        # Security review 2026-12-02 (bandit B608): only table and column names from migrations and PARTITIONED are interpolated.
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{unique_with}'), "  # nosec B608
                       f'coalesce((SELECT max({unique_with}) FROM "{table}"), 0) + 1, false)')
        # Foreign keys and indexes of the old table (Django's names) move over, then it goes.
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = %s::regclass AND contype = 'f'", [old])
        foreign_keys = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                       "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                       [old, old])
        indexes = cursor.fetchall()
        cursor.execute(f'DROP TABLE "{old}"')
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({unique_with}, {column})')
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in indexes:
            cursor.execute(definition.replace(f'ON public."{old}"', f'ON public."{table}"')
                           .replace(f"ON public.{old}", f"ON public.{table}"))
