from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("ledger", api.LedgerViewSet, basename="ledger")
router.register("declarations", api.DeclarationViewSet, basename="declaration")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("years", api.YearViewSet, basename="year")

urlpatterns = router.urls
