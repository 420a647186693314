from django.urls import path

from intelligence import views

app_name = "intelligence"
urlpatterns = [
    path("intelligence/panel/<str:kind>/<id:pk>/", views.panel_view, name="panel"),
    path("intelligence/recommendations/<id:pk>/<str:decision>/", views.recommendation_decide_view,
         name="recommendation-decide"),
    path("analytics/", views.analytics_view, name="analytics"),
    path("intelligence/models/", views.models_view, name="models"),
]
