"""The app's URLs with single sign-on's routes, as salesapp.urls has them when OIDC is configured at start-up."""

from django.urls import include, path

from salesapp.urls import handler403, handler404, handler500  # noqa: F401
from salesapp.urls import urlpatterns as app_patterns

urlpatterns = [*app_patterns, path("oidc/", include("mozilla_django_oidc.urls"))]
