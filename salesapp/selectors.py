"""Kernel reads: users and published events."""

from django.db.models import QuerySet
from django.http import Http404

from salesapp.hierarchy import subtree_sql
from salesapp.models import OutboxEvent, User
from salesapp.roles import Role


def user_list(*, user: User) -> QuerySet[User]:
    """Users `user` may see: admins all, others themselves and their subtree."""
    qs = User.objects.select_related("manager")
    if user.role == Role.ADMIN:
        return qs
    return qs.filter(pk__in=subtree_sql(user.pk))


def user_get(*, user: User, pk) -> User:
    """A person `user` may see (themselves, their subtree; admins anyone); 404 otherwise."""
    person = user_list(user=user).filter(pk=pk).first()
    if person is None:
        raise Http404("No such user.")
    return person


def event_list(*, name: str | None = None, since=None) -> QuerySet[OutboxEvent]:
    """Published events, newest first, optionally of one name and after a time."""
    qs = OutboxEvent.objects.all()
    if name:
        qs = qs.filter(name=name)
    if since:
        qs = qs.filter(created_at__gte=since)
    return qs
