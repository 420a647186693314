from django.urls import path

from salesapp import import_views

app_name = "imports"
urlpatterns = [
    path("new/", import_views.import_new, name="new"),
    path("<id:pk>/", import_views.import_detail, name="detail"),
    path("<id:pk>/progress/", import_views.import_progress, name="progress"),
    path("<id:pk>/run/", import_views.import_rerun, name="rerun"),
]
