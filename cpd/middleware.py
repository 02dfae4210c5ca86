"""Domain errors raised by services, turned into HTTP once for every page."""

from __future__ import annotations

from django.http import Http404

from .errors import NotFound


class DomainErrorMiddleware:
    """A service's NotFound becomes the site's 404 page (the API maps it in cpd.api.exception_handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(str(exception)) from exception
        return None
