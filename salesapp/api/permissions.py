"""DRF permission classes built from the role matrix."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from salesapp.access import can_write
from salesapp.guards import has_permission


def role_permission(read: str | None = None, write: str | None = None, **per_action: str):
    """A permission class: `read` for safe methods, `write` for the others.

    `per_action` overrides by viewset action name, e.g. destroy="opportunity:delete".
    """

    class RolePermission(BasePermission):
        def has_permission(self, request, view):
            user = request.user
            if not (user and user.is_authenticated):
                return False
            action = getattr(view, "action", None)
            if action in per_action:
                return has_permission(user, per_action[action])
            if request.method in SAFE_METHODS:
                return read is None or has_permission(user, read)
            return can_write(user) and (write is None or has_permission(user, write))

    RolePermission.__name__ = f"RolePermission_{read}_{write}"
    return RolePermission
