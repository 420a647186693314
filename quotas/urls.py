from django.urls import path

from quotas import views

app_name = "quotas"
urlpatterns = [
    path("quotas/", views.dashboard, name="dashboard"),
    path("quotas/plan/", views.plan, name="plan"),
    path("quotas/plan/table/", views.plan_table, name="plan-table"),
    path("quotas/plan/publish/", views.plan_publish, name="plan-publish"),
    path("quotas/plan/<str:kind>/<id:holder_id>/", views.plan_cell, name="plan-cell"),
    path("quotas/<id:pk>/allocate/", views.allocate, name="allocate"),
]
