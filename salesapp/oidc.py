"""Single sign-on through an OpenID provider (Okta, Auth0, Google, any certified one), on mozilla-django-oidc.

- Sign-in is the authorization code flow with PKCE. The provider's signed ID token is verified against
  its JWKS and its claims identify the person (the userinfo endpoint is asked only where configured).
- An account is created at the first sign-in and brought up to date at every one: names, and the role,
  taken from the groups claim (`OIDC_GROUPS_CLAIM`) through `OIDC_ROLE_MAP` (group -> role; of several
  mapped groups the most powerful role wins), else `OIDC_DEFAULT_ROLE`. The provider's subject is kept
  on the user, so the provider's access tokens name a user.
- The session lasts as long as the provider renews it: when the access token expires, the refresh token
  is exchanged (`OIDCRefreshMiddleware`); a refusal (the user was disabled or removed at the provider)
  signs the user out at that request.
- Signing out ends the provider's session too (RP-initiated logout, `provider_logout_url`).
- API clients may send the provider's access tokens (`ProviderAccessTokenAuthentication`): JWTs verified
  against the provider's JWKS, with the issuer and the API's audience (`OIDC_API_AUDIENCE`) checked.
"""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from salesapp import services
from salesapp.api.auth import record_actor
from salesapp.models import User
from salesapp.roles import Role

log = logging.getLogger(__name__)

# Most powerful first: a person in several mapped groups gets the first of their roles in this order.
ROLE_PRECEDENCE = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.READ_ONLY)
REFRESH_AT = "oidc_refresh_at"
REFRESH_TOKEN = "oidc_refresh_token"  # noqa: S105 (a session key's name, not a secret)
ID_TOKEN = "oidc_id_token"  # noqa: S105


def role_for(claims: dict) -> str:
    """The role the provider's groups claim maps to (`OIDC_ROLE_MAP`), else `OIDC_DEFAULT_ROLE`."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    roles = {settings.OIDC_ROLE_MAP[group] for group in groups if group in settings.OIDC_ROLE_MAP}
    return next((role for role in ROLE_PRECEDENCE if role in roles), settings.OIDC_DEFAULT_ROLE)


def _keep_tokens(session, tokens: dict) -> None:
    """Keep what the session needs of a token answer: the refresh token and when to use it, the ID token."""
    if tokens.get("refresh_token"):
        session[REFRESH_TOKEN] = tokens["refresh_token"]
        session[REFRESH_AT] = time.time() + int(tokens.get("expires_in") or settings.OIDC_REFRESH_SECONDS)
    if tokens.get("id_token"):
        session[ID_TOKEN] = tokens["id_token"]


class SalesOIDCBackend(OIDCAuthenticationBackend):
    """Matches a provider's identity to a user by email, creating and updating accounts from the claims."""

    def get_token(self, payload):
        tokens = super().get_token(payload)
        _keep_tokens(self.request.session, tokens)
        return tokens

    def get_userinfo(self, access_token, id_token, payload):
        """The verified ID token's claims; the userinfo endpoint's where one is configured."""
        if settings.OIDC_OP_USER_ENDPOINT:
            return super().get_userinfo(access_token, id_token, payload)
        return payload

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").lower()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        try:
            user = services.user_create(
                email=claims["email"].lower(), password=None, role=role_for(claims),
                first_name=claims.get("given_name", ""), last_name=claims.get("family_name", ""),
            )
        except ValidationError as exc:  # e.g. the email belongs to a deactivated user: no sign-in
            raise SuspiciousOperation(f"no account for {claims['email']}: {exc.messages[0]}") from exc
        return self._remember_subject(user, claims)

    def update_user(self, user, claims):
        """Bring the account up to date with the provider: names and role (a new role ends older sessions)."""
        wanted = {"first_name": claims.get("given_name", user.first_name),
                  "last_name": claims.get("family_name", user.last_name), "role": role_for(claims)}
        changed = {name: value for name, value in wanted.items() if getattr(user, name) != value}
        if changed:
            try:
                user = services.user_update(actor=None, user=user, **changed)
            except ValidationError as exc:  # e.g. the last admin would lose the role: refuse the sign-in
                raise SuspiciousOperation(f"{user.email} cannot be updated: {exc.messages[0]}") from exc
        return self._remember_subject(user, claims)

    @staticmethod
    def _remember_subject(user: User, claims: dict) -> User:
        if claims.get("sub") and user.oidc_subject != claims["sub"]:
            User.objects.filter(oidc_subject=claims["sub"]).exclude(pk=user.pk).update(oidc_subject=None)
            User.objects.filter(pk=user.pk).update(oidc_subject=claims["sub"])
            user.oidc_subject = claims["sub"]
        return user


def token_refresh(session) -> bool:
    """Exchange the session's refresh token at the provider; whether the provider still accepts the user.

    A refusal (400: the grant is invalid because the user is disabled, removed or revoked) answers False; a
    provider that cannot be reached, or fails, raises: it is reported, never taken for a yes.
    """
    response = requests.post(settings.OIDC_OP_TOKEN_ENDPOINT, data={
        "grant_type": "refresh_token", "refresh_token": session[REFRESH_TOKEN],
        "client_id": settings.OIDC_RP_CLIENT_ID, "client_secret": settings.OIDC_RP_CLIENT_SECRET,
    }, timeout=settings.OIDC_TIMEOUT)
    if response.status_code in (400, 401):
        log.info("OIDC refresh refused: %s", response.text[:200])
        return False
    response.raise_for_status()
    _keep_tokens(session, response.json())
    return True


class OIDCRefreshMiddleware:
    """Renews a provider-begun session when its access token expires; signs the user out if the provider refuses.

    Sessions begun with a password carry no refresh token and pass untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refresh_at = request.session.get(REFRESH_AT)
        if refresh_at is not None and time.time() >= refresh_at and request.user.is_authenticated:
            if not token_refresh(request.session):
                auth.logout(request)
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def provider_logout_url(request) -> str:
    """Where to send a signing-out user so the provider's session ends too ("" for a password session)."""
    id_token = request.session.get(ID_TOKEN)
    if not (settings.OIDC_ENABLED and id_token and settings.OIDC_OP_LOGOUT_ENDPOINT):
        return ""
    query = urlencode({"id_token_hint": id_token, "client_id": settings.OIDC_RP_CLIENT_ID,
                       "post_logout_redirect_uri": request.build_absolute_uri(reverse("login"))})
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}"


@functools.lru_cache(maxsize=2)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=settings.OIDC_JWKS_CACHE_SECONDS)


class ProviderAccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <provider access token>`: a JWT the provider signed for this API.

    A bearer token from another issuer (our own JWTs) is left to the next authenticator. The signature
    is checked against the provider's JWKS, then the issuer, the audience (`OIDC_API_AUDIENCE`) and
    expiry; the subject must be a user who signed in through the provider before and is active.
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer" or not settings.OIDC_API_AUDIENCE:
            return None
        token = parts[1].decode("latin-1")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return None  # not a JWT this class knows: another authenticator's
        if issuer != settings.OIDC_OP_ISSUER:
            return None
        try:
            key = _jwks_client(settings.OIDC_OP_JWKS_ENDPOINT).get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=[settings.OIDC_RP_SIGN_ALGO],
                                audience=settings.OIDC_API_AUDIENCE, issuer=settings.OIDC_OP_ISSUER,
                                options={"require": ["exp", "sub", "aud", "iss"]})
        except jwt.PyJWKClientConnectionError:
            raise  # the provider's keys cannot be fetched: reported, not a refusal of the token
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(f"Provider token refused: {exc}", code="token_not_valid") from exc
        user = User.objects.filter(oidc_subject=claims["sub"], is_active=True).first()
        if user is None:
            raise AuthenticationFailed("No active user has signed in with this identity.", code="user_not_found")
        return record_actor((user, claims))

    def authenticate_header(self, request):
        return "Bearer"
