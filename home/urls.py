from django.conf import settings
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="workspace"),
    path("calendar/", views.calendar, name="home_calendar"),
    path("calendar/token/", views.calendar_token, name="home_calendar_token"),
    path("calendar/email/", views.email_preference, name="home_email_preference"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="home_calendar_feed"),
    path("todo/returned/", views.returned, name="home_returned"),
    path("todo/late/", views.late, name="home_late"),
    path("todo/settings/", views.settings_due, name="home_settings"),
    path("todo/projects/", views.projects_due, name="home_projects_due"),
    path("behind/", views.behind, name="home_behind"),
    path("transcripts/", views.transcripts, name="transcripts"),
    path("transcripts/<int:year>.pdf", views.transcript_pdf, name="transcript_pdf"),
    path("transcripts/check/", views.transcript_check, name="transcript_check_form"),
    path("transcripts/check/<str:code>/", views.transcript_check, name="transcript_check"),
]

# A cycle transcript exists only in a cycle deployment (the cycles app is not installed otherwise).
if settings.CPD_REGIME == "cycle":
    urlpatterns.append(path("transcripts/cycle/<int:cycle_id>.pdf", views.transcript_cycle_pdf, name="transcript_cycle_pdf"))
