"""API authentication that also records the acting user for the audit log.

The audit middleware runs before DRF authenticates a bearer token, so it sees
an anonymous user; these classes put the authenticated user into the audit
context once DRF knows who it is.
"""

from auditlog.context import auditlog_value
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from salesapp.backends import cached_user
from salesapp.tokens import EPOCH_CLAIM, token_epoch_current


def record_actor(result):
    if result is not None:
        try:
            context = auditlog_value.get()
        except LookupError:
            return result
        if context.get("actor") is None:
            context["actor"] = result[0]
    return result


class AuditedJWTAuthentication(JWTAuthentication):
    """JWT bearer tokens (`Authorization: Bearer <access>`), refused once the user's credentials were revoked."""

    def authenticate(self, request):
        return record_actor(super().authenticate(request))

    def get_user(self, validated_token):
        # One cache entry holds the row and the permission set (any change to either retires it):
        # comparing the token epoch and checking the role matrix then cost no query.
        user = cached_user(validated_token.get(api_settings.USER_ID_CLAIM),
                           lambda: super(AuditedJWTAuthentication, self).get_user(validated_token))
        if not token_epoch_current(validated_token.get(EPOCH_CLAIM), user):
            raise AuthenticationFailed(_("Token is no longer valid"), code="token_not_valid")
        return user


class AuditedSessionAuthentication(SessionAuthentication):
    """Browser sessions (CSRF-checked)."""

    def authenticate(self, request):
        return record_actor(super().authenticate(request))
