from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="workspace"),
    path("calendar/", views.calendar, name="home_calendar"),
]
