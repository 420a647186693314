"""Who may see and set which quota holders.

Quotas are set by `quota:set` holders (admins, sales managers) for themselves
and their reporting subtree, and for territories they may see. Everyone reads
the quotas the record rule lets them see: their own, their subtree's, their
territories'.
"""

from salesapp.access import can_write
from salesapp.hierarchy import user_subtree_ids
from salesapp.roles import Role, perm


def is_admin(user) -> bool:
    return getattr(user, "role", None) == Role.ADMIN


def may_set(user) -> bool:
    return can_write(user) and user.has_perm(perm("quota:set"))


def visible_user_ids(viewer) -> list[int] | None:
    """Ids of the users the viewer may see quotas of; None means everyone (admins)."""
    if is_admin(viewer):
        return None
    return user_subtree_ids(viewer.pk)


def user_visible(viewer, user_id) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    if int(user_id) == viewer.pk:
        return True
    ids = visible_user_ids(viewer)
    return ids is None or int(user_id) in ids


def territory_visible(viewer, territory_id) -> bool:
    """Through the territories app's own record rule (held territories, subtree's, descendants)."""
    if viewer is None or not viewer.is_authenticated:
        return False
    if is_admin(viewer):
        return True
    from territories.selectors import territory_list

    return territory_list(user=viewer).filter(pk=territory_id).exists()
