"""Who may read operational details (health check details, metrics): staff, or a scraper with the ops token.

`CPD_OPS_TOKEN` (environment) is sent as `Authorization: Bearer <token>`; unset, only staff users may.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest


def may_see_operations(request: HttpRequest) -> bool:
    token = settings.CPD_OPS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)
