"""`?ordering=` of API lists, from the same sort keys as the list pages."""

from rest_framework import filters

from salesapp.lists import sort_fields


class FilterSetOrdering(filters.OrderingFilter):
    """Orders an API list by the view's filter set `sorts` (the keys its list page offers), with the id as the
    tiebreak so that cursor pages never skip or repeat rows of equal value. The filter set validates the
    value (an unknown key answers 400 naming `ordering`) and documents it; views whose filter set declares no
    sorts keep DRF's `ordering_fields`.
    """

    @staticmethod
    def _sorts(view) -> dict | None:
        return getattr(getattr(view, "filterset_class", None), "sorts", None)

    def get_ordering(self, request, queryset, view):
        sorts = self._sorts(view)
        if not sorts:
            return super().get_ordering(request, queryset, view)
        value = request.query_params.get(self.ordering_param, "")
        return (sort_fields(sorts, value) if value else None) or list(self.get_default_ordering(view))

    def get_schema_operation_parameters(self, view):
        return [] if self._sorts(view) else super().get_schema_operation_parameters(view)
