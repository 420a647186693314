"""API tokens (JWT): their own key, rotation without signing everyone out, revocation per user.

- Tokens are signed with settings.JWT_SIGNING_KEY, never SECRET_KEY, and verified with it or any
  key of settings.JWT_PREVIOUS_SIGNING_KEYS: after a rotation the new key signs while tokens of
  the old one keep working until the operator drops it (or, in the embedded default, until its
  grace period ends; see salesapp/settings/keys.py).
- Each token carries the user's token epoch. A password change, deactivation or role change
  bumps the epoch (salesapp.services.user_credentials_revoke), so every token issued before it
  is refused: access tokens by the API's authentication (no extra query: the user row is read
  anyway), refresh tokens here.
"""

import jwt
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt import tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings

from salesapp.models import User
from salesapp.signin import SignInLocked, lockout_message

EPOCH_CLAIM = "epoch"


class RotatingTokenBackend(TokenBackend):
    """HMAC tokens: signed with the current key, verified with the current or a previous one."""

    def __init__(self):
        super().__init__(api_settings.ALGORITHM, leeway=api_settings.LEEWAY)

    @property
    def prepared_signing_key(self):
        # Read per use, not cached: the keys are settings (tests and a restart after rotation change them).
        return self._prepare_key(settings.JWT_SIGNING_KEY)

    def decode(self, token, verify: bool = True) -> dict:
        if not verify:
            return super().decode(token, verify=False)
        for key in (settings.JWT_SIGNING_KEY, *settings.JWT_PREVIOUS_SIGNING_KEYS):
            try:
                return jwt.decode(
                    token, self._prepare_key(key), algorithms=[self.algorithm], leeway=self.get_leeway(),
                    options={"verify_aud": False},
                )
            except jwt.InvalidSignatureError:
                continue  # maybe signed with another of our keys
            except jwt.ExpiredSignatureError as exc:
                raise TokenBackendExpiredToken(_("Token is expired")) from exc
            except jwt.InvalidTokenError as exc:
                raise TokenBackendError(_("Token is invalid")) from exc
        raise TokenBackendError(_("Token is invalid"))


_backend = RotatingTokenBackend()


class AccessToken(tokens.AccessToken):
    """An access token of ours (checked by salesapp.api.auth.AuditedJWTAuthentication)."""

    _token_backend = _backend


class RefreshToken(tokens.RefreshToken):
    """A refresh token of ours; the access tokens it makes copy its epoch."""

    _token_backend = _backend
    access_token_class = AccessToken

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[EPOCH_CLAIM] = user.token_epoch
        return token


def token_epoch_current(payload_epoch: int | None, user: User) -> bool:
    """Whether a token issued at `payload_epoch` is still good for `user` (no revocation since).

    Tokens from before epochs existed carry none and count as epoch 0.
    """
    return (payload_epoch or 0) == user.token_epoch


class TokenObtainPairSerializer(jwt_serializers.TokenObtainPairSerializer):
    """Email and password -> access and refresh token.

    Sign-in lockouts (salesapp.signin) answer 429 `locked_out` rather than a plain 401.
    """

    token_class = RefreshToken

    def validate(self, attrs):
        try:
            return super().validate(attrs)
        except AuthenticationFailed:
            request = self.context["request"]
            if getattr(request, "axes_locked_out", False):  # set by axes on the request it was handed
                raise SignInLocked(lockout_message(request))
            raise


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """A refresh token -> a new access token and a new refresh token (the old one is blacklisted).

    A token of a user who is gone, or whose credentials were revoked since it was issued, is refused.
    """

    token_class = RefreshToken

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user = User.objects.filter(pk=refresh.get(api_settings.USER_ID_CLAIM)).only("token_epoch").first()
        if user is None or not token_epoch_current(refresh.get(EPOCH_CLAIM), user):
            raise InvalidToken(_("Token is no longer valid"))
        return super().validate(attrs)
