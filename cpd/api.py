"""API plumbing shared by every app: error shapes and the active role."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import ServiceUnavailable, StateConflict


def exception_handler(exc, context):
    """Turn model/service validation errors into 400 with field messages, never 500."""
    if isinstance(exc, StateConflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    unavailable = service_unavailable_message(exc)
    if unavailable is not None:
        return Response({"detail": unavailable}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "30"})
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
            if "__all__" in detail:
                detail["non_field_errors"] = detail.pop("__all__")
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def service_unavailable_message(exc: BaseException | None) -> str | None:
    """The message for a 503 when `exc` means a service is down (queue or database), else None."""
    from django.db import InterfaceError, OperationalError
    from django.utils.translation import gettext as _

    if isinstance(exc, ServiceUnavailable):
        return exc.message
    if isinstance(exc, (OperationalError, InterfaceError)):
        return _("数据库暂时不可用，请稍后重试。")
    return None
