from django import template

register = template.Library()


@register.filter
def get_metric(row: dict, key: str):
    """A report row's value for the chart's metric, shown as a rate where it is one."""
    value = row.get(key)
    if value is None:
        return "—"
    if key in ("win_rate", "slipped_share"):
        return f"{value * 100:.0f}%"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return value
