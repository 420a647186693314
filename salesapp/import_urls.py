from django.urls import path

from salesapp import import_views

app_name = "imports"
urlpatterns = [
    path("new/", import_views.import_new, name="new"),
    path("<int:pk>/", import_views.import_detail, name="detail"),
    path("<int:pk>/progress/", import_views.import_progress, name="progress"),
    path("<int:pk>/run/", import_views.import_rerun, name="rerun"),
]
