from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("points/exchange-requests", api.ExchangeRequestViewSet, basename="exchange-request")
router.register("points/rules", api.RuleViewSet, basename="points-rule")
router.register("points/windows", api.WindowViewSet, basename="points-window")

urlpatterns = [
    path("points/events/", api.points_event, name="points_event"),
    path("points/me/", api.my_points, name="api_my_points"),
    *router.urls,
]
