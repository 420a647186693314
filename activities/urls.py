from django.urls import path

from activities import views

app_name = "activities"
urlpatterns = [
    path("activities/", views.activity_list_view, name="list"),
    path("activities/tasks/", views.my_tasks, name="my-tasks"),
    path("activities/timeline/", views.timeline_panel, name="timeline-panel"),
    path("activities/timeline/<str:kind>/<id:record_id>/", views.timeline_page, name="timeline-page"),
    path("activities/log/", views.log_activity, name="log"),
    path("activities/<id:activity_id>/complete/", views.complete_activity, name="complete"),
    path("activities/calendar/rotate/", views.calendar_rotate, name="calendar-rotate"),
    path("activities/calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
