from django.urls import path

from opportunities.api import views
from salesapp.api.routers import Router

router = Router()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("opportunity-stages", views.StageViewSet, basename="opportunity-stage")
router.register("loss-reasons", views.LossReasonViewSet, basename="loss-reason")
router.register("archived-opportunities", views.ArchivedOpportunityViewSet, basename="archived-opportunity")
router.register("archive-jobs", views.ArchiveJobViewSet, basename="archive-job")

urlpatterns = [
    path("pipeline/summary/", views.PipelineSummaryView.as_view(), name="pipeline-summary"),
    path("forecasts/", views.ForecastView.as_view(), name="forecast"),
    path("forecasts/snapshots/", views.ForecastSnapshotView.as_view(), name="forecast-snapshot"),
    path("forecasts/adjustments/", views.ForecastAdjustmentView.as_view(), name="forecast-adjustment"),
    *router.urls,
]
