from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("policies", api.PolicyViewSet, basename="policy")
router.register("verification-runs", api.RunViewSet, basename="verification-run")
router.register("results", api.ResultViewSet, basename="result")
router.register("notices", api.NoticeViewSet, basename="notice")
router.register("result-complaints", api.ResultComplaintViewSet, basename="result-complaint")
router.register("exports", api.ExportViewSet, basename="export")

urlpatterns = [
    path("exemptions/", api.exemption, name="api_exemption"),
    path("confirmations/", api.confirm, name="api_confirm"),
    path("statistics/", api.statistics, name="api_statistics"),
    *router.urls,
]
