from django.urls import path

from leads import views

app_name = "leads"
urlpatterns = [
    path("leads/", views.lead_list, name="list"),
    path("leads/new/", views.lead_create, name="create"),
    path("leads/bulk/", views.lead_bulk, name="bulk"),
    path("leads/export/", views.lead_export, name="export"),
    path("leads/duplicates/", views.lead_duplicates_check, name="duplicates"),
    path("leads/<id:pk>/", views.lead_detail, name="detail"),
    path("leads/<id:pk>/edit/", views.lead_edit, name="edit"),
    path("leads/<id:pk>/convert/", views.lead_convert, name="convert"),
    path("leads/<id:pk>/assign/", views.lead_assign, name="assign"),
    path("leads/<id:pk>/merge/", views.lead_merge, name="merge"),
    path("leads/<id:pk>/<slug:action>/", views.lead_transition, name="transition"),
]
