"""The router of every app's API: record ids in paths go through the kernel's `id` converter."""

from django.db import models
from rest_framework.routers import DefaultRouter


def _converter(viewset) -> str:
    """The path converter of a viewset's records: `id` for whole-number keys, `uuid` for UUID keys."""
    named = getattr(viewset, "lookup_value_converter", None)
    if named:
        return named
    queryset = getattr(viewset, "queryset", None)
    if queryset is not None and isinstance(queryset.model._meta.pk, models.UUIDField):
        return "uuid"
    return "id"


class Router(DefaultRouter):
    """DRF's router with path converters: a viewset's lookup is `<id:pk>` (`<uuid:pk>` for UUID keys)
    unless it names its own `lookup_value_converter` (e.g. "slug" for stage keys). No root view unless asked for, and no
    `.json` suffix routes: the API speaks JSON.
    """

    include_format_suffixes = False

    def __init__(self, *, root_view: bool = False):
        super().__init__(use_regex_path=False)
        self.include_root_view = root_view

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        return self._base_pattern.format(
            lookup_prefix=lookup_prefix,
            lookup_url_kwarg=getattr(viewset, "lookup_url_kwarg", None) or lookup_field,
            lookup_value=_converter(viewset),
        )
