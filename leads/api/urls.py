from django.urls import path
from rest_framework.routers import DefaultRouter

from leads.api.views import LeadViewSet, WebToLeadView

router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = [
    path("web-to-lead/<slug:key>/", WebToLeadView.as_view(), name="web-to-lead"),
    *router.urls,
]
