"""The field policy in templates: `{% if request.user|may_read:"opportunities.opportunity.margin" %}`."""

from django import template

from salesapp import fields

register = template.Library()


@register.filter
def may_read(user, field: str) -> bool:
    """Whether `user` may see the restricted field named `<app>.<model>.<field>`."""
    model_label, _, name = field.rpartition(".")
    return fields.may_read(user, model_label, name)
