"""Structured logs: one JSON object per line, each with the request id of the request (or task) that
wrote it, and never a full ID number.

- `RequestIdMiddleware` takes the caller's `X-Request-ID` (a proxy's) when it is a plain token, or
  makes one, keeps it for the request's log lines and echoes it in the response.
- Tasks queued during the request carry it in a message header (`before_task_publish`); the worker
  restores it for the task's log lines (`task_prerun`), see `connect_celery_signals`.
- Formatters mask anything shaped like a resident ID number (18 characters, 17 digits and a digit or
  X). Names are not logged by the code; tests/ops/test_logs.py checks both over representative flows.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("cpd_request_id", default="-")
HEADER = "cpd_request_id"
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# An 18-character resident ID number (or a 15-digit old one), not part of a longer run of digits.
# Decimals (a duration's "0.046898187999") are not ID numbers: no digit run preceded by "digit." is masked.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)(\d{6})(\d{8,11})([0-9Xx]?)(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    def _mask(match: re.Match) -> str:
        whole = match.group(0)
        if len(whole) not in (15, 18):
            return whole
        return whole[:3] + "*" * (len(whole) - 5) + whole[-2:]

    return _ID_NUMBER.sub(_mask, text)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (a handler filter, so it also covers third-party loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class MaskedJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_id_numbers(super().format(record))


class MaskedTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_id_numbers(super().format(record))


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _TOKEN.match(given) else uuid.uuid4().hex
        # Not reset on the way out: Django logs 4xx/5xx responses (django.request) after the middleware
        # returned; the id is cleared when the response is closed (request_finished, below).
        REQUEST_ID.set(request_id)
        request.request_id = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _clear_request_id(**_kwargs) -> None:
    REQUEST_ID.set("-")


request_finished.connect(_clear_request_id, dispatch_uid="cpd.logs.clear_request_id")


def connect_celery_signals() -> None:
    from celery import signals

    @signals.before_task_publish.connect(weak=False)
    def _carry_request_id(headers=None, **_kwargs):
        if headers is not None and REQUEST_ID.get() != "-":
            headers[HEADER] = REQUEST_ID.get()

    @signals.task_prerun.connect(weak=False)
    def _restore_request_id(task=None, **_kwargs):
        request_id = getattr(task.request, HEADER, None) if task is not None else None
        # Eager tasks run inside the request: its id is already set.
        if request_id:
            task.request._cpd_log_token = REQUEST_ID.set(request_id)

    @signals.task_postrun.connect(weak=False)
    def _forget_request_id(task=None, **_kwargs):
        token = getattr(task.request, "_cpd_log_token", None) if task is not None else None
        if token is not None:
            try:
                REQUEST_ID.reset(token)
            except ValueError:  # set in another context (thread pools): just clear it
                REQUEST_ID.set("-")

    @signals.task_failure.connect(weak=False)
    def _count_failure(sender=None, **_kwargs):
        from cpd.metrics import CELERY_TASK_FAILURES

        CELERY_TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def logging_config(*, json_format: bool, level: str) -> dict:
    """The LOGGING setting: console only (the container runtime collects stdout)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "cpd.logs.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "cpd.logs.MaskedJsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                "json_ensure_ascii": False,
            },
            "text": {
                "()": "cpd.logs.MaskedTextFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "json" if json_format else "text",
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
