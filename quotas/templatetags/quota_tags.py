from django import template

register = template.Library()


@register.filter
def absolute(value):
    """|value|, for showing a gap as "over-allocated by 5,000"."""
    try:
        return abs(value)
    except TypeError:
        return value
