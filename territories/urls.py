from django.urls import path

from territories import views

app_name = "territories"
urlpatterns = [
    path("territories/", views.tree_view, name="tree"),
    path("territories/new/", views.territory_form, name="create"),
    path("territories/match/", views.match_view, name="match"),
    path("territories/rules/matches/", views.rule_matches_view, name="rule-matches"),
    path("territories/<id:pk>/", views.territory_detail, name="detail"),
    path("territories/<id:pk>/edit/", views.territory_form, name="edit"),
    path("territories/<id:pk>/delete/", views.territory_delete, name="delete"),
    path("territories/<id:pk>/members/", views.member_add, name="member-add"),
    path("territories/<id:pk>/members/<id:user_id>/remove/", views.member_remove, name="member-remove"),
    path("territories/<id:pk>/grants/", views.grant_add, name="grant-add"),
    path("territories/<id:pk>/grants/<str:kind>/<id:grantee_id>/remove/", views.grant_remove, name="grant-remove"),
    path("territories/models/<id:pk>/preview/", views.model_preview, name="model-preview"),
    path("territories/models/<id:pk>/clone/", views.model_clone, name="model-clone"),
    path("territories/realignments/<id:pk>/", views.job_detail, name="job"),
    path("territories/realignments/<id:pk>/progress/", views.job_progress, name="job-progress"),
    path("territories/realignments/<id:pk>/apply/", views.job_apply, name="job-apply"),
    path("territories/realignments/<id:pk>/cancel/", views.job_cancel, name="job-cancel"),
]
