from django.urls import path

from leads.api.views import LeadViewSet, WebToLeadView
from salesapp.api.routers import Router

router = Router()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = [
    path("web-to-lead/<slug:key>/", WebToLeadView.as_view(), name="web-to-lead"),
    *router.urls,
]
