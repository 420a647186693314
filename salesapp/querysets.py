"""The queryset every domain model uses, so the access rule is a method code cannot forget."""

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """A domain model's queryset: `restrict(user, action)` narrows it by the model's one access rule."""

    def restrict(self, user, action: str = "view") -> "RestrictedQuerySet":
        """The records `user` may do `action` (view, change, delete) on (salesapp.access holds the rule)."""
        # Imported here: salesapp.access reads salesapp.models, whose ImportJob uses this queryset.
        from salesapp.access import restrict_queryset

        return restrict_queryset(self, user, action)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    """`Model.objects` of a domain model: `Model.objects.restrict(user, "view")`."""
