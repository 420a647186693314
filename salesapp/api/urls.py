from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from salesapp.api.imports import ImportJobViewSet
from salesapp.api.privacy import PrivacyRequestViewSet
from salesapp.api.routers import Router
from salesapp.api.search import SearchView
from salesapp.api.views import EventViewSet, MeView, UserViewSet

router = Router(root_view=True)
router.register("users", UserViewSet, basename="user")
router.register("events", EventViewSet, basename="event")
router.register("imports", ImportJobViewSet, basename="import")
router.register("privacy-requests", PrivacyRequestViewSet, basename="privacy-request")

urlpatterns = [
    path("auth/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("users/me/", MeView.as_view(), name="user-me"),
    path("search/", SearchView.as_view(), name="search"),
    *router.urls,
]
