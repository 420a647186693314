
from quotas.api.views import QuotaViewSet
from salesapp.api.routers import Router

router = Router()
router.register("quotas", QuotaViewSet, basename="quota")

urlpatterns = router.urls
