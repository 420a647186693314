from django.urls import path

from activities.api.views import ActivityViewSet, TimelineView
from salesapp.api.routers import Router

router = Router()
router.register("activities", ActivityViewSet, basename="activity")

urlpatterns = [
    path("timeline/", TimelineView.as_view(), name="timeline"),
    *router.urls,
]
