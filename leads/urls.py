from django.urls import path

from leads import views

app_name = "leads"
urlpatterns = [
    path("leads/", views.lead_list, name="list"),
    path("leads/new/", views.lead_create, name="create"),
    path("leads/bulk/", views.lead_bulk, name="bulk"),
    path("leads/export/", views.lead_export, name="export"),
    path("leads/duplicates/", views.lead_duplicates_check, name="duplicates"),
    path("leads/<int:pk>/", views.lead_detail, name="detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="edit"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="convert"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="assign"),
    path("leads/<int:pk>/merge/", views.lead_merge, name="merge"),
    path("leads/<int:pk>/<slug:action>/", views.lead_transition, name="transition"),
]
