from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="workspace"),
    path("calendar/", views.calendar, name="home_calendar"),
    path("todo/returned/", views.returned, name="home_returned"),
    path("todo/late/", views.late, name="home_late"),
    path("todo/settings/", views.settings_due, name="home_settings"),
    path("todo/projects/", views.projects_due, name="home_projects_due"),
    path("behind/", views.behind, name="home_behind"),
]
