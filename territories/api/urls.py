from rest_framework.routers import DefaultRouter

from territories.api.views import RealignmentJobViewSet, TerritoryModelViewSet, TerritoryViewSet

router = DefaultRouter()
router.register("territories", TerritoryViewSet, basename="territory")
router.register("territory-models", TerritoryModelViewSet, basename="territory-model")
router.register("realignment-jobs", RealignmentJobViewSet, basename="realignment-job")

urlpatterns = router.urls
