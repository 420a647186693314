"""The permission guard of UI views: one check of the role matrix for every page.

    @perm_required("lead:read")
    def lead_list_view(request): ...

A signed-out visitor is sent to sign in; a signed-in user whose role lacks the
permission gets 403. Writes also need a role that may write at all (read_only
never does), whatever the matrix an admin edited says.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from salesapp.access import can_write
from salesapp.roles import PERMISSIONS, perm

# The permissions that change records: holding one still needs a role that may write.
_WRITE_SUFFIXES = (":write", ":delete", ":import", ":assign", ":set", ":adjust", ":train", ":manage")


def has_permission(user, codename: str) -> bool:
    """Whether `user` may use `codename` of the role matrix (e.g. "lead:write")."""
    if codename not in PERMISSIONS:
        raise ValueError(f"unknown permission {codename!r}")
    if not (user and user.is_authenticated and user.has_perm(perm(codename))):
        return False
    return can_write(user) if codename.endswith(_WRITE_SUFFIXES) else True


def require_permission(user, codename: str) -> None:
    """403 unless `user` may use `codename`."""
    if not has_permission(user, codename):
        raise PermissionDenied(f"Your role may not use {codename}.")


def perm_required(codename: str):
    """View decorator: sign in first, then `codename` of the role matrix, else 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def guarded(request, *args, **kwargs):
            require_permission(request.user, codename)
            return view(request, *args, **kwargs)

        return guarded

    return decorate
