from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("organisations", api.OrganisationViewSet, basename="organisation")
router.register("teachers", api.TeacherViewSet, basename="teacher")
router.register("roster-imports", api.RosterImportViewSet, basename="roster-import")

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api_me"),
    *router.urls,
]
