"""Territory-based record access, contributed to the shared restrict() rule."""

from django.db.models import Q
from django.db.models.expressions import RawSQL

from territories.selectors import held_territories_sql


def territory_scope(user, rule) -> Q:
    """Records whose territory the user, or anyone in their reporting subtree, holds (or a descendant).

    One subquery per request, no caching: a grant or revocation counts on the next request.
    """
    if not rule.territory_field:
        return Q(pk__in=[])
    sql, params = held_territories_sql(user.pk)
    return Q(**{f"{rule.territory_field}__in": RawSQL(sql, params)})
