"""URL conf. Apps are included by dotted path, so the kernel imports none."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from salesapp import health, metrics, views
from salesapp.forms import OwnPasswordChangeForm, PasswordResetRequestForm, ResetPasswordForm

APPS = ["leads", "opportunities", "territories", "quotas", "intelligence", "activities"]

api_patterns = [path("", include("salesapp.api.urls"))]
ui_patterns = []
for app in APPS:
    api_patterns.append(path("", include(f"{app}.api.urls")))
    ui_patterns.append(path("", include(f"{app}.urls")))

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.logout_view, name="logout"),
    # Passwords: changing yours, or resetting it through a link sent by email (Django's views, our forms).
    path("password/change/", auth_views.PasswordChangeView.as_view(form_class=OwnPasswordChangeForm),
         name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(form_class=PasswordResetRequestForm),
         name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(form_class=ResetPasswordForm),
         name="password_reset_confirm"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("search/", views.search_view, name="search"),
    path("search/suggest/", views.search_suggest_view, name="search-suggest"),
    path("search/palette/", views.search_palette_view, name="search-palette"),
    path("views/", views.saved_view_save_view, name="saved-view-save"),
    path("views/<id:pk>/delete/", views.saved_view_delete_view, name="saved-view-delete"),

    path("choices/states/", views.state_choices_view, name="choice-states"),
    path("me/", views.profile_view, name="profile"),
    path("me/api/", views.api_access_view, name="api-access"),
    path("admin/", admin.site.urls),
    path("imports/", include("salesapp.import_urls")),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="salesapp/swagger_ui.html"),
         name="api-docs"),
    *ui_patterns,
]
if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler404 = "salesapp.views.error_404"
handler403 = "salesapp.views.error_403"
handler500 = "salesapp.views.error_500"
