"""Batched writes shared by the apps' bulk services: one copy of the fast path and of what a score is."""

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model


def rows_update(model: type[Model], objs: list[Model], field_names: tuple[str, ...]) -> None:
    """Write `field_names` of each object by primary key: one parameterised UPDATE run for every row.

    psycopg 3 pipelines `executemany`; Django's bulk_update builds a CASE per row and field, which costs
    over a millisecond a row: too slow for refreshing every open lead or deal. Rows are written in key
    order. Model signals do not fire: the caller writes the audit entries and publishes the events.
    """
    if not objs:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # nosec B608
    # In key order, as salesapp.locks takes row locks: two bulk writes over overlapping rows queue, never deadlock.
    rows = [[*(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields), obj.pk]
            for obj in sorted(objs, key=lambda obj: obj.pk)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def scores_check(scores: dict[int, dict]) -> None:
    """A score is a whole number 0-100 with the label of the model that made it and a list of reasons.

    Raises one ValidationError naming every bad record (`scores.<id>`).
    """
    errors = {
        f"scores.{pk}": ["A score is a whole number from 0 to 100 with the model that made it."]
        for pk, s in scores.items()
        if not (isinstance(s["score"], int) and 0 <= s["score"] <= 100 and s["model"] and isinstance(s["factors"], list))
    }
    if errors:
        raise ValidationError(errors)
