"""What an update really changed: the field names an `*.updated` event and an audit entry carry."""

from django.db.models import Model


def apply_changes(instance: Model, data: dict) -> list[str]:
    """Set `data` on `instance` and answer the names of the fields whose values changed.

    Relations compare by id, so handing back the same owner or account is no change.
    """
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            before, after = getattr(instance, field.attname), getattr(value, "pk", value)
        else:
            before, after = getattr(instance, name), value
        if before != after:
            changed.append(name)
        setattr(instance, name, value)
    return changed
