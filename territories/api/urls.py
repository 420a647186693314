
from salesapp.api.routers import Router
from territories.api.views import RealignmentJobViewSet, TerritoryModelViewSet, TerritoryViewSet

router = Router()
router.register("territories", TerritoryViewSet, basename="territory")
router.register("territory-models", TerritoryModelViewSet, basename="territory-model")
router.register("realignment-jobs", RealignmentJobViewSet, basename="realignment-job")

urlpatterns = router.urls
