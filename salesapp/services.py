"""Kernel write services: users and roles."""

from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from salesapp.hierarchy import would_create_cycle
from salesapp.models import User
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


@transaction.atomic
def user_update(*, user: User, **fields) -> User:
    """Change a user's names, role, manager or password; roles move groups with them."""
    if "role" in fields and fields["role"] not in Role.values:
        raise ValidationError({"role": [f"Unknown role {fields['role']!r}."]})
    if "manager" in fields:
        user_validate_manager(user, fields["manager"])
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
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Deactivate a user: they cannot sign in, and their sessions and tokens end."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now())
    already = set(BlacklistedToken.objects.filter(token__user=user).values_list("token_id", flat=True))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in outstanding if t.pk not in already]
    )
    _end_sessions(user)
    return user


def _end_sessions(user: User) -> None:
    # Sessions are opaque rows; only live ones are decoded, and only on deactivation.
    ids = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            ids.append(session.pk)
    Session.objects.filter(pk__in=ids).delete()
