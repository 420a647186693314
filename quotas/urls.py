from django.urls import path

from quotas import views

app_name = "quotas"
urlpatterns = [
    path("quotas/", views.dashboard, name="dashboard"),
]
