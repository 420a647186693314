"""Roles and the permission matrix.

Roles are Django groups carrying `salesapp.<entity>:<verb>` permissions, so the
admin console can show and change them. `ROLE_PERMISSIONS` is the seed matrix
the groups start from; `roles_sync` (run after every migrate) creates missing
groups and grants their matrix without taking away what an admin added.
"""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    SALES_MANAGER = "sales_manager", "Sales manager"
    SALES_REP = "sales_rep", "Sales rep"
    READ_ONLY = "read_only", "Read only"


# codename -> human name; the codenames follow the seed ("opportunity:delete").
PERMISSIONS = {
    "lead:read": "Read leads",
    "lead:write": "Create and change leads",
    "lead:delete": "Delete leads",
    "lead:import": "Import leads and other records",
    "opportunity:read": "Read accounts, contacts and opportunities",
    "opportunity:write": "Create and change accounts, contacts and opportunities",
    "opportunity:delete": "Delete and reopen opportunities",
    "forecast:adjust": "Adjust the forecasts of reports",
    "territory:read": "Read territories",
    "territory:assign": "Create and change territories and their assignments",
    "quota:read": "Read quotas",
    "quota:set": "Set and change quotas",
    "activity:read": "Read activities",
    "activity:write": "Log and change activities",
    "analytics:read": "Read analytics dashboards",
    "intelligence:train": "Train and promote scoring models",
    "user:manage": "Manage users and roles",
    "event:read": "Read the published event stream",
    "privacy:manage": "Answer data subject requests and set retention policies",
}

_READ = ["lead:read", "opportunity:read", "territory:read", "quota:read", "activity:read", "analytics:read"]
_WRITE = ["lead:write", "opportunity:write", "activity:write"]
_MANAGE = ["lead:delete", "lead:import", "opportunity:delete", "forecast:adjust", "territory:assign", "quota:set"]

ROLE_PERMISSIONS = {
    Role.ADMIN: list(PERMISSIONS),
    Role.SALES_MANAGER: _READ + _WRITE + _MANAGE,
    Role.SALES_REP: _READ + _WRITE,
    Role.READ_ONLY: _READ,
}

WRITE_ROLES = {Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP}


def perm(codename: str) -> str:
    """Full permission name for `user.has_perm`, e.g. perm("quota:set")."""
    return f"salesapp.{codename}"


def roles_sync(**kwargs) -> None:
    """Create the role groups and grant each its matrix (idempotent)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from salesapp.models import User

    ct = ContentType.objects.get_for_model(User)
    by_code = {}
    for codename, name in PERMISSIONS.items():
        by_code[codename], _ = Permission.objects.get_or_create(content_type=ct, codename=codename, defaults={"name": name})
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.add(*[by_code[c] for c in codenames])
