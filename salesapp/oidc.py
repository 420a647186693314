"""OIDC sign-in (Okta, Auth0, Google): users are matched and created by email."""

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from salesapp import services


class SalesOIDCBackend(OIDCAuthenticationBackend):
    """Matches an OIDC identity to a user by email; new users get OIDC_DEFAULT_ROLE."""

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").lower()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        return services.user_create(
            email=claims["email"].lower(),
            password=None,
            role=settings.OIDC_DEFAULT_ROLE,
            first_name=claims.get("given_name", ""),
            last_name=claims.get("family_name", ""),
        )
