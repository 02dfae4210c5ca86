from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("auth/tokens", api.ApiTokenViewSet, basename="api-token")
router.register("audit-events", api.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/token/", api.obtain_token, name="api_token"),
    path("auth/logout/", api.LogoutView.as_view(), name="api_logout"),
    path("auth/password/", api.PasswordChangeView.as_view(), name="api_password_change"),
    *router.urls,
]
