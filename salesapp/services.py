"""Kernel write services: users and roles."""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import QueryDict
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from salesapp.backends import users_changed
from salesapp.events import publish
from salesapp.hierarchy import would_create_cycle
from salesapp.locks import rows_lock
from salesapp.models import SavedView, User
from salesapp.roles import Role


def user_sync_role_group(user: User) -> None:
    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups.exclude(name=user.role))
    group = role_groups.filter(name=user.role).first()
    if group:
        user.groups.add(group)


def user_validate_manager(user: User, manager: User | None) -> None:
    if manager is None:
        return
    if user.pk and manager.pk == user.pk:
        raise ValidationError({"manager": ["A user cannot be their own manager."]})
    if would_create_cycle(user.pk, manager.pk):
        raise ValidationError({"manager": ["That manager reports to this user: the hierarchy would loop."]})


@transaction.atomic
def user_create(*, email: str, password: str, role: str = Role.SALES_REP, manager: User | None = None,
                first_name: str = "", last_name: str = "", on_target_earnings=None) -> User:
    """Create a user with a role (its group), an optional manager and on-target earnings."""
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["A user with this email already exists."]})
    user = User.objects.create_user(
        email=email, password=password, role=role, manager=manager, first_name=first_name, last_name=last_name,
        on_target_earnings=on_target_earnings, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN,
    )
    user_sync_role_group(user)
    return user


def user_validate_change(*, actor: User | None, user: User, role: str, is_active: bool) -> None:
    """Nobody changes their own role or deactivates themselves, and the last active admin stays one.

    `role` and `is_active` are what the user is about to become; the stored row is what they are
    (read under a row lock, so two admins cannot demote each other at the same moment and leave
    none). A refusal names the field: `role` or `is_active`.
    """
    stored = rows_lock(User.objects.filter(pk=user.pk)).values("role", "is_active").first()
    if stored is None:
        return  # a new user
    demoted = stored["role"] != role
    deactivated = stored["is_active"] and not is_active
    if actor is not None and actor.pk == user.pk:
        if deactivated:
            raise ValidationError({"is_active": ["You cannot deactivate yourself."]})
        if demoted:
            raise ValidationError({"role": ["You cannot change your own role."]})
    if stored["role"] == Role.ADMIN and stored["is_active"] and (demoted or deactivated):
        admins = rows_lock(User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk))
        if not list(admins.values_list("pk", flat=True)[:1]):
            field, change = ("is_active", "deactivated") if deactivated else ("role", "given another role")
            raise ValidationError({field: [f"{user.email} is the last active admin and cannot be {change}."]})


def user_credentials_revoke(*, user: User) -> None:
    """End every session and API token of `user`, on every device, at once.

    The token epoch moves on: sessions (User._get_session_auth_hash) and access tokens
    (salesapp.tokens) issued before fail at their next use; outstanding refresh tokens are
    blacklisted as well.
    """
    User.objects.filter(pk=user.pk).update(token_epoch=F("token_epoch") + 1)
    users_changed()  # an update() sends no signal: the cached users of bearer requests go now
    user.refresh_from_db(fields=["token_epoch"])
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in outstanding], ignore_conflicts=True)


@transaction.atomic
def user_update(*, actor: User | None, user: User, **fields) -> User:
    """Change a user's names, role, manager or password; roles move groups with them.

    A new password or a new role ends the user's sessions and tokens. Nobody changes their own
    role, and the last active admin keeps theirs (user_validate_change).
    """
    if "role" in fields and fields["role"] not in Role.values:
        raise ValidationError({"role": [f"Unknown role {fields['role']!r}."]})
    if "manager" in fields:
        user_validate_manager(user, fields["manager"])
    if "role" in fields:
        user_validate_change(actor=actor, user=user, role=fields["role"], is_active=user.is_active)
    role_changed = "role" in fields and fields["role"] != user.role
    password = fields.pop("password", None)
    for name, value in fields.items():
        setattr(user, name, value)
    if "role" in fields:
        user.is_staff = user.is_superuser = user.role == Role.ADMIN
    if password:
        user.set_password(password)
    user.save()
    if "role" in fields:
        user_sync_role_group(user)
    if password or role_changed:
        user_credentials_revoke(user=user)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str) -> User:
    """Set a user's password (by an admin, a password reset or the user); their sessions and tokens end."""
    user.set_password(password)
    user.save(update_fields=["password"])
    user_credentials_revoke(user=user)
    return user


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User) -> User:
    """Deactivate a user: they cannot sign in, and their sessions and tokens end.

    Nobody deactivates themselves or the last active admin (user_validate_change).
    """
    user_validate_change(actor=actor, user=user, role=user.role, is_active=False)
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_credentials_revoke(user=user)
    return user


SAVED_VIEW_QUERY_DROPS = ("page", "view")


@transaction.atomic
def saved_view_save(*, actor: User, list_key: str, name: str, query: str) -> SavedView:
    """Save the actor's list filters, sort and columns under a name; saving an existing name replaces its query.

    The page number and the view marker are not part of a view: it reopens on its first page.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Name the view."]})
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise ValidationError({"name": ["At most 80 characters."]})
    params = QueryDict(query, mutable=True)
    for key in SAVED_VIEW_QUERY_DROPS:
        params.pop(key, None)
    query = params.urlencode()
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise ValidationError({"query": ["Too many filters to save."]})
    view, created = SavedView.objects.update_or_create(user=actor, list_key=list_key, name=name,
                                                       defaults={"query": query})
    publish("saved_view.created" if created else "saved_view.updated",
            {"saved_view_id": view.pk, "user_id": actor.pk, "list_key": list_key}, actor=actor)
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Delete one of the actor's own saved views."""
    if view.user_id != actor.pk:
        raise ValidationError("Only the view's owner may delete it.")
    payload = {"saved_view_id": view.pk, "user_id": actor.pk, "list_key": view.list_key}
    view.delete()
    publish("saved_view.deleted", payload, actor=actor)
