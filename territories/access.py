"""Who reaches territory records: the territory scope of restrict(), and the rules of plans and realignment jobs.

- A record lies in the territories its territory field names; whoever holds a
  territory (or one above it), or has someone in their reporting subtree who
  does, sees the records in it (`held_territory_ids`, the scope contributed to every rule).
- A territory model (a version of the plan) is seen in full, and changed, by
  planners (`territory:assign`: admins and sales managers); anyone else sees a
  plan that holds a territory they can see, and never changes one.
- A realignment job spans records of every territory: planners only.
"""

from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from salesapp.access import VIEW, access_changed
from salesapp.guards import has_permission
from territories.models import Territory, TerritoryGroupGrant, TerritoryMember, TerritoryUserGrant
from territories.selectors import held_territories_sql

PLANNER_PERMISSION = "territory:assign"
_EVERY = Q(pk__isnull=False)
_NONE = Q(pk__in=[])


def held_territory_ids(user_id: int) -> list[int]:
    """Territories the user, or anyone in their reporting subtree, holds, and their descendants: one query.

    The territory scope of restrict(): records in these territories are visible. The kernel caches
    the ids per user (salesapp.access.user_reach); every change they depend on (a grant, an owner, a
    parent, a territory added or removed) retires the cache through `territory_access_changed`.
    """
    sql, params = held_territories_sql(user_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def territory_access_changed(**kwargs) -> None:
    """A territory, its grant or its membership changed (services or the admin console): reaches are stale."""
    access_changed()


def connect_access_invalidation() -> None:
    """Every write of what `held_territory_ids` reads retires the cached reaches (called from ready())."""
    for model in (Territory, TerritoryUserGrant, TerritoryGroupGrant, TerritoryMember):
        for signal in (post_save, post_delete):
            signal.connect(territory_access_changed, sender=model, dispatch_uid=f"access-{model.__name__}-{signal}")


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
