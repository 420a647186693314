from django.urls import path

from intelligence.api import views
from salesapp.api.routers import Router

router = Router()
router.register("recommendations", views.RecommendationViewSet, basename="recommendation")
router.register("intelligence/models", views.ScoringModelViewSet, basename="scoring-model")

urlpatterns = [
    path("opportunities/<id:pk>/score/", views.OpportunityScoreView.as_view(), name="opportunity-score"),
    path("leads/<id:pk>/score/", views.LeadScoreView.as_view(), name="lead-score"),
    path("analytics/<str:report>/", views.AnalyticsView.as_view(), name="analytics-report"),
    *router.urls,
]
