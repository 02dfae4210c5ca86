"""Project-wide views: the 500 handler that turns a service outage into a 503."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

from .api import service_unavailable_message


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database or task-queue outage is a 503 the user can retry, not a crash.

    Rendered without the request's context processors: they read the database, which may be down.
    """
    message = service_unavailable_message(sys.exc_info()[1])
    if message is None:
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("ops/service_unavailable.html", {"message": message}), status=503)
    response["Retry-After"] = "30"
    return response
