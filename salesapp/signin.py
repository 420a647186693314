"""Sign-in that resists guessing, through django-axes: the rule, its back-off, its answers, unlocking.

The rule: SIGNIN_FAILURE_LIMIT wrong passwords for one account, or from one address, each within
the lockout period of the one before, lock that account (or address) out of every way in: the
sign-in page, `POST /api/v1/auth/token/` and the admin console's login (they all go through
`authenticate()`, where axes' backend stands first). While locked out even the right password is
refused, and every further try starts the period again.

Back-off: the period is SIGNIN_LOCKOUT_MINUTES, doubled for each earlier lockout of the same
account or address in the last day (at most a day). Each lockout leaves an audit entry; an admin
unlocks an account from the API (`POST /api/v1/users/{id}/unlock/`) or the admin console
(users' action "Unlock sign-in", or the axes access attempts), which also forgets its back-off.
"""

from datetime import timedelta

from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.shortcuts import render
from rest_framework import status
from rest_framework.exceptions import APIException

from salesapp import cache
from salesapp.audit import audit_user_event
from salesapp.clientip import client_ip
from salesapp.metrics import LOGIN_LOCKOUTS
from salesapp.models import User

LOCKOUTS_WINDOW = 24 * 3600
LONGEST_LOCKOUT_MINUTES = 24 * 60


def _lockouts_key(kind: str, value: str) -> str:
    return f"signin:lockouts:{kind}:{value}"


def _username(credentials: dict | None, request) -> str:
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or request.POST.get("username") or ""
    return str(value).strip().lower()


def axes_username(request, credentials) -> str:
    """The account an attempt names, as axes counts it: the email, lower-cased (emails ignore case).

    The sign-in form sends it as `username`, the token endpoint as `email`. It is kept on the
    request for `axes_cool_off`, which axes asks with the request alone.
    """
    username = _username(credentials, request)
    request.signin_username = username
    return username


def axes_client_ip(request) -> str:
    return client_ip(request)


def axes_cool_off(request) -> timedelta:
    """How long failures add up and a lockout lasts for this attempt's account and address (back-off)."""
    keys = [_lockouts_key("address", axes_client_ip(request))]
    if getattr(request, "signin_username", ""):
        keys.append(_lockouts_key("account", request.signin_username))
    earlier = max((cache.get(key, 0) for key in keys), default=0)
    minutes = settings.SIGNIN_LOCKOUT_MINUTES * 2 ** max(earlier - 1, 0)
    return timedelta(minutes=min(minutes, LONGEST_LOCKOUT_MINUTES))


def lockout_message(request) -> str:
    minutes = int(axes_cool_off(request).total_seconds() // 60)
    return (f"Too many failed sign-ins: this account or address is locked for {minutes} minutes. "
            "Try again later, reset your password, or ask an admin to unlock it.")


class SignInLocked(APIException):
    """The API's answer to a locked-out sign-in (the one error shape, code `locked_out`)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked-out sign-in page (sign-in form, admin login): a page in the site's look.

    The token endpoint answers through SignInLocked instead (axes marks the DRF request it is handed,
    which its middleware never sees).
    """
    return render(request, "registration/locked_out.html", {"message": lockout_message(request)},
                  status=status.HTTP_429_TOO_MANY_REQUESTS)


def _on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    """Count the lockout for the back-off and leave an audit entry, once per lockout.

    Axes signals on every refused try while locked out; a lockout begins at the try whose
    failure count reaches the limit.
    """
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    LOGIN_LOCKOUTS.inc()
    for key in (_lockouts_key("account", username or ""), _lockouts_key("address", ip_address)):
        cache.count(key, LOCKOUTS_WINDOW)
    user = User.objects.filter(email__iexact=username).first() if username else None
    audit_user_event(
        user=user, summary=f"sign-in locked out: {username} from {ip_address}", change=["allowed", "locked out"],
        remote_addr=ip_address,
        details={"username": username, "ip_address": ip_address, "path": request.path,
                 "lockout_minutes": int(axes_cool_off(request).total_seconds() // 60)},
    )


def signin_unlock(*, actor: User, user: User) -> int:
    """Let `user` sign in again now: forget the failed tries on their account and its back-off.

    The failures also leave their addresses' counts, so the user's own address is unlocked with it;
    an address that guessed at other accounts stays locked (admins remove those attempts in the
    console). Audited when there was something to unlock. Returns how many failure records went.
    """
    username = user.email.lower()
    removed = reset(username=username)
    had_backoff = cache.get(_lockouts_key("account", username)) is not None
    cache.delete(_lockouts_key("account", username))
    if removed or had_backoff:
        audit_user_event(user=user, summary=f"sign-in unlocked: {username}", change=["locked out", "allowed"],
                         actor=actor, details={"username": username, "failure_records_removed": removed})
    return removed


def connect() -> None:
    """Connect the lockout receiver (called from the kernel's ready())."""
    user_locked_out.connect(_on_locked_out, dispatch_uid="salesapp-signin-locked-out")

