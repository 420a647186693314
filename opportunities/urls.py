from django.urls import path

from opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("accounts/", views.account_list_view, name="account-list"),
    path("accounts/new/", views.account_form_view, name="account-create"),
    path("accounts/<id:pk>/", views.account_detail_view, name="account-detail"),
    path("accounts/<id:pk>/edit/", views.account_form_view, name="account-edit"),
    path("accounts/<id:account_pk>/contacts/new/", views.contact_form_view, name="contact-create"),
    path("contacts/", views.contact_list_view, name="contact-list"),
    path("contacts/new/", views.contact_form_view, name="contact-new"),
    path("contacts/<id:pk>/", views.contact_detail_view, name="contact-detail"),
    path("contacts/<id:pk>/edit/", views.contact_form_view, name="contact-edit"),
    path("opportunities/", views.opportunity_list_view, name="list"),
    path("opportunities/new/", views.opportunity_form_view, name="create"),
    path("opportunities/bulk-stage/", views.opportunity_bulk_stage_view, name="bulk-stage"),
    path("opportunities/export/", views.opportunity_export_view, name="export"),
    path("opportunities/<id:pk>/", views.opportunity_detail_view, name="detail"),
    path("opportunities/<id:pk>/edit/", views.opportunity_form_view, name="edit"),
    path("opportunities/<id:pk>/field/<slug:field>/", views.opportunity_field_view, name="field"),
    path("opportunities/<id:pk>/stage/", views.opportunity_stage_view, name="stage"),
    path("opportunities/<id:pk>/close/", views.opportunity_close_view, name="close"),
    path("opportunities/<id:pk>/reopen/", views.opportunity_reopen_view, name="reopen"),
    path("pipeline/", views.board_view, name="board"),
    path("forecast/", views.forecast_view, name="forecast"),
    path("forecast/adjust/", views.forecast_adjust_view, name="forecast-adjust"),
]
