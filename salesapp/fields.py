"""Field-level security: the one per-role policy of who reads and who writes restricted fields.

Some columns are for some roles only: a deal's margin and cost, a person's on-target earnings.
Each app registers its restricted fields here in `AppConfig.ready` (`register(Opportunity, margin=
"Deal margin (%)")`). Each field gets two permissions of the role matrix,
`field:<app>.<model>.<field>:read` and `...:write`, which the admin and sales_manager role groups
receive when the field first appears (`field_permissions_sync`, after every migrate; a grant the
admin took away is never given back). The admin changes who holds them in the admin console
(Groups), as any permission of the matrix; admins hold every permission. Writing also needs a
role that may write at all.

Whoever may not read a field does not get it at all: it is absent (not null) from API answers,
list rows, exports, search results, analytics and pages. A write of a field the user may not
write is refused with 403 naming the field. Serializers, forms, exports, templates and services
all ask this module.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Model

from salesapp.access import can_write
from salesapp.roles import Role, perm

READ, WRITE = "read", "write"
DEFAULT_ROLES = (Role.ADMIN, Role.SALES_MANAGER)

# model label ("opportunities.opportunity") -> field name -> label
_registry: dict[str, dict[str, str]] = {}


class FieldPermissionDenied(PermissionDenied):
    """A write of a restricted field the user may not write (answers 403 naming the field)."""

    def __init__(self, field: str):
        self.field = field
        super().__init__(f"Your role may not change {field}.")


def _label(model) -> str:
    """A model's label ("opportunities.opportunity"); templates name the model by its label."""
    return model if isinstance(model, str) else model._meta.label_lower


def register(model: type[Model], **fields: str) -> None:
    """Make `fields` (name -> human label) of `model` restricted."""
    for name in fields:
        model._meta.get_field(name)  # a typo is a start-up error, not a field left open
    _registry.setdefault(_label(model), {}).update(fields)


def restricted(model) -> tuple[str, ...]:
    """The restricted field names of `model` (none for most models)."""
    return tuple(_registry.get(_label(model), ()))


def codename(model, name: str, verb: str) -> str:
    return f"field:{_label(model)}.{name}:{verb}"


def _holds(user, model, name: str, verb: str) -> bool:
    if not (user is not None and user.is_authenticated and user.has_perm(perm(codename(model, name, verb)))):
        return False
    return verb == READ or can_write(user)


def may_read(user, model, name: str) -> bool:
    """Whether `user` may see `model.name` (always, for a field that is not restricted)."""
    return name not in restricted(model) or _holds(user, model, name, READ)


def may_write(user, model, name: str) -> bool:
    """Whether `user` may set `model.name` (always, for a field that is not restricted)."""
    return name not in restricted(model) or _holds(user, model, name, WRITE)


def hidden(user, model) -> frozenset[str]:
    """The restricted fields of `model` that `user` may not see."""
    return frozenset(name for name in restricted(model) if not _holds(user, model, name, READ))


def visible(user, model, names: Iterable[str]) -> list[str]:
    """`names` (field names or `.values()` columns) without those `user` may not see."""
    gone = hidden(user, model)
    return [n for n in names if n not in gone]


def strip(user, model, row: dict) -> dict:
    """`row` without the keys `user` may not see (the keys go: hidden is absent, not null)."""
    for name in hidden(user, model):
        row.pop(name, None)
    return row


def require_write(user, model, names: Iterable[str]) -> None:
    """403 (FieldPermissionDenied naming the field) if `names` holds a field `user` may not write."""
    for name in names:
        if not may_write(user, model, name):
            raise FieldPermissionDenied(name)


def restrict_form(form, user, model) -> None:
    """Drop the fields of a model form that `user` may not write (they are not offered at all)."""
    for name in restricted(model):
        if name in form.fields and not may_write(user, model, name):
            del form.fields[name]


def permissions() -> dict[str, str]:
    """codename -> human name of every field permission."""
    out = {}
    for model_label, fields in _registry.items():
        for name, label in fields.items():
            out[f"field:{model_label}.{name}:{READ}"] = f"Read {label}"
            out[f"field:{model_label}.{name}:{WRITE}"] = f"Change {label}"
    return out


def field_permissions_sync(**kwargs) -> None:
    """Create the field permissions; one created now goes to the default roles (post_migrate, idempotent)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from salesapp.models import User

    content_type = ContentType.objects.get_for_model(User)
    groups = list(Group.objects.filter(name__in=[r.value for r in DEFAULT_ROLES]))
    for name, label in permissions().items():
        permission, created = Permission.objects.get_or_create(content_type=content_type, codename=name,
                                                               defaults={"name": label})
        if created:
            for group in groups:
                group.permissions.add(permission)
