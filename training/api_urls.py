from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("projects", api.ProjectViewSet, basename="project")
router.register("enrolments", api.EnrolmentViewSet, basename="enrolment")
router.register("hours-imports", api.HoursImportViewSet, basename="hours-import")
router.register("extensions", api.ExtensionViewSet, basename="extension")
router.register("registration-complaints", api.ComplaintViewSet, basename="registration-complaint")
router.register("courses", api.CourseViewSet, basename="course")

urlpatterns = [
    path("platform/completions/", api.platform_completion, name="platform_completion"),
    *router.urls,
]
