"""Kernel reads: users and published events."""

from django.db.models import QuerySet
from django.db.models.functions import Lower
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



def users_by_email(emails) -> dict[str, User]:
    """Active users by email, ignoring case: the one lookup of people by email for imports' owner columns."""
    wanted = {(e or "").strip().lower() for e in emails} - {""}
    if not wanted:
        return {}
    found = User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=wanted, is_active=True)
    return {u.email_lower: u for u in found}
