from django.urls import path
from rest_framework.routers import SimpleRouter

from activities.api.views import ActivityViewSet, TimelineView

router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")

urlpatterns = [
    path("timeline/", TimelineView.as_view(), name="timeline"),
    *router.urls,
]
