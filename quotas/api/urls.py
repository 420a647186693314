from rest_framework.routers import SimpleRouter

from quotas.api.views import QuotaViewSet

router = SimpleRouter()
router.register("quotas", QuotaViewSet, basename="quota")

urlpatterns = router.urls
