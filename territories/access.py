"""Who reaches territory records: the territory scope of restrict(), and the rules of plans and realignment jobs.

- A record lies in the territories its territory field names; whoever holds a
  territory (or one above it), or has someone in their reporting subtree who
  does, sees the records in it (`territory_scope`, contributed to every rule).
- A territory model (a version of the plan) is seen in full, and changed, by
  planners (`territory:assign`: admins and sales managers); anyone else sees a
  plan that holds a territory they can see, and never changes one.
- A realignment job spans records of every territory: planners only.
"""

from django.db.models import Q
from django.db.models.expressions import RawSQL

from salesapp.access import VIEW
from salesapp.guards import has_permission
from territories.models import Territory
from territories.selectors import held_territories_sql

PLANNER_PERMISSION = "territory:assign"
_EVERY = Q(pk__isnull=False)
_NONE = Q(pk__in=[])


def territory_scope(user, rule) -> Q:
    """Records whose territory the user, or anyone in their reporting subtree, holds (or a descendant).

    One subquery per request, no caching: a grant or revocation counts on the next request.
    """
    if not rule.territory_field:
        return _NONE
    sql, params = held_territories_sql(user.pk)
    # Security review 2026-12-02 (bandit B611): the SQL is built from model metadata only; the user id is a bound parameter.
    return Q(**{f"{rule.territory_field}__in": RawSQL(sql, params)})  # nosec B611


def territory_model_q(user, action: str) -> Q:
    """Planners reach every plan; others see the plans holding a territory they can see."""
    if has_permission(user, PLANNER_PERMISSION):
        return _EVERY
    if action != VIEW:
        return _NONE
    return Q(pk__in=Territory.objects.restrict(user, VIEW).values("model_id"))


def realignment_job_q(user, action: str) -> Q:
    """Planners reach every realignment job; nobody else reaches any."""
    return _EVERY if has_permission(user, PLANNER_PERMISSION) else _NONE
