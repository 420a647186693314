from django.urls import path

from opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("accounts/", views.account_list_view, name="account-list"),
    path("accounts/new/", views.account_form_view, name="account-create"),
    path("accounts/<int:pk>/", views.account_detail_view, name="account-detail"),
    path("accounts/<int:pk>/edit/", views.account_form_view, name="account-edit"),
    path("accounts/<int:account_pk>/contacts/new/", views.contact_form_view, name="contact-create"),
    path("contacts/<int:pk>/edit/", views.contact_form_view, name="contact-edit"),
    path("opportunities/", views.opportunity_list_view, name="list"),
    path("opportunities/new/", views.opportunity_form_view, name="create"),
    path("opportunities/bulk-stage/", views.opportunity_bulk_stage_view, name="bulk-stage"),
    path("opportunities/export/", views.opportunity_export_view, name="export"),
    path("opportunities/<int:pk>/", views.opportunity_detail_view, name="detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_form_view, name="edit"),
    path("opportunities/<int:pk>/stage/", views.opportunity_stage_view, name="stage"),
    path("opportunities/<int:pk>/close/", views.opportunity_close_view, name="close"),
    path("opportunities/<int:pk>/reopen/", views.opportunity_reopen_view, name="reopen"),
    path("pipeline/", views.board_view, name="board"),
    path("forecast/", views.forecast_view, name="forecast"),
    path("forecast/adjust/", views.forecast_adjust_view, name="forecast-adjust"),
]
