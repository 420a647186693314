from django.urls import path

from territories import views

app_name = "territories"
urlpatterns = [
    path("territories/", views.tree_view, name="tree"),
    path("territories/new/", views.territory_form, name="create"),
    path("territories/match/", views.match_view, name="match"),
    path("territories/<int:pk>/", views.territory_detail, name="detail"),
    path("territories/<int:pk>/edit/", views.territory_form, name="edit"),
    path("territories/<int:pk>/delete/", views.territory_delete, name="delete"),
    path("territories/<int:pk>/members/", views.member_add, name="member-add"),
    path("territories/<int:pk>/members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path("territories/<int:pk>/grants/", views.grant_add, name="grant-add"),
    path("territories/<int:pk>/grants/<str:kind>/<int:grantee_id>/remove/", views.grant_remove, name="grant-remove"),
    path("territories/models/<int:pk>/preview/", views.model_preview, name="model-preview"),
    path("territories/models/<int:pk>/clone/", views.model_clone, name="model-clone"),
    path("territories/realignments/<int:pk>/", views.job_detail, name="job"),
    path("territories/realignments/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("territories/realignments/<int:pk>/apply/", views.job_apply, name="job-apply"),
    path("territories/realignments/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
]
