from django.urls import path
from rest_framework.routers import SimpleRouter

from intelligence.api import views

router = SimpleRouter()
router.register("recommendations", views.RecommendationViewSet, basename="recommendation")
router.register("intelligence/models", views.ScoringModelViewSet, basename="scoring-model")

urlpatterns = [
    path("opportunities/<int:pk>/score/", views.OpportunityScoreView.as_view(), name="opportunity-score"),
    path("leads/<int:pk>/score/", views.LeadScoreView.as_view(), name="lead-score"),
    path("analytics/<str:report>/", views.AnalyticsView.as_view(), name="analytics-report"),
    *router.urls,
]
