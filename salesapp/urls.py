"""URL conf. Apps are included by dotted path, so the kernel imports none."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from salesapp import health, views

APPS = ["leads", "opportunities", "territories", "quotas", "intelligence", "activities"]

api_patterns = [path("", include("salesapp.api.urls"))]
ui_patterns = []
for app in APPS:
    api_patterns.append(path("", include(f"{app}.api.urls")))
    ui_patterns.append(path("", include(f"{app}.urls")))

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("search/", views.search_view, name="search"),
    path("search/suggest/", views.search_suggest_view, name="search-suggest"),
    path("admin/", admin.site.urls),
    path("imports/", include("salesapp.import_urls")),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    *ui_patterns,
]
if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler404 = "salesapp.views.error_404"
handler403 = "salesapp.views.error_403"
handler500 = "salesapp.views.error_500"
