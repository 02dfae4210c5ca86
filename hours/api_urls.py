from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api, project_api

router = DefaultRouter()
router.register("ledger", api.LedgerViewSet, basename="ledger")
router.register("declarations", api.DeclarationViewSet, basename="declaration")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("years", api.YearViewSet, basename="year")
router.register("projects", project_api.ProjectViewSet, basename="project")
router.register("enrolments", project_api.EnrolmentViewSet, basename="enrolment")
router.register("hours-imports", project_api.HoursImportViewSet, basename="hours-import")
router.register("extensions", project_api.ExtensionViewSet, basename="extension")
router.register("registration-complaints", project_api.ComplaintViewSet, basename="registration-complaint")
router.register("courses", project_api.CourseViewSet, basename="course")

urlpatterns = [
    path("platform/completions/", project_api.platform_completion, name="platform_completion"),
    *router.urls,
]
