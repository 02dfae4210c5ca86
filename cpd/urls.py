from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cpd import health, metrics

# The regime is a boundary: an annual deployment has no cycle address, a cycle deployment no
# address of the annual verification (its runs, results, notice, statistics and exports).
if settings.CPD_REGIME == "cycle":
    regime_api = [path("api/v1/", include("cycles.api_urls"))]
    regime_pages = [path("", include("cycles.urls"))]
else:
    regime_api = [path("api/v1/", include("verification.api_urls"))]
    regime_pages = [path("verification/", include("verification.urls"))]

urlpatterns = [
    path("health/live/", health.live, name="health_live"),
    path("health/ready/", health.ready, name="health_ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("security.api_urls")),
    path("api/v1/", include("hours.api_urls")),
    path("api/v1/", include("training.api_urls")),
    *regime_api,
    path("api/v1/", include("points.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("hours/", include("hours.urls")),
    path("hours/", include("training.urls")),
    *regime_pages,
    path("points/", include("points.urls")),
    path("account/", include("security.urls")),
    path("", include("home.urls")),  # before accounts: "/" is the role's home page
    path("", include("accounts.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
handler500 = "cpd.views.server_error"
