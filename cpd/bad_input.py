"""Refuse, before any view runs, request input no view can use: a NUL byte (or another control
character) in the path or in a query parameter. PostgreSQL refuses such a string outright, so a
filter like `?state=a%00b` was a 500 wherever it reached a query; here it is a 400 naming the
parameter, for the pages and the API alike."""

from __future__ import annotations

import re

from django.db import DataError
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

# C0 controls except tab, LF and CR (which a search box may send), and DEL.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problems: dict[str, list[str]] = {}
        if _FORBIDDEN.search(request.path):
            problems["path"] = [_("地址中含有不允许的控制字符。")]
        for name, values in request.GET.lists():
            if _FORBIDDEN.search(name) or any(_FORBIDDEN.search(v) for v in values):
                label = _FORBIDDEN.sub("?", name)[:50]
                problems[label] = [_("参数“%(name)s”中含有不允许的控制字符（如 NUL）。") % {"name": label}]
        if problems:
            return _bad_request(request, problems)
        return self.get_response(request)

    def process_exception(self, request, exception):
        """A value the database cannot hold (a number beyond its column, a NUL byte on PostgreSQL)
        came from the request: a 400, not a 500, wherever a view let it through."""
        if isinstance(exception, DataError | OverflowError):
            return _bad_request(request, {"non_field_errors": [_("请求中有超出范围或格式不正确的值。")]})
        return None


def _bad_request(request, problems: dict[str, list[str]]):
    if request.path.startswith("/api/"):
        return JsonResponse(problems, status=400, json_dumps_params={"ensure_ascii": False})
    text = " ".join(m for ms in problems.values() for m in ms)
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


# Python's int() refuses more than 4,300 digits; a number too big for its column simply matches
# nothing (Django answers an out-of-range lookup with an empty result).
_INT_TEXT = re.compile(r"[0-9]{1,4000}")


def is_int_text(value) -> bool:
    """Whether a parameter is a plain whole number. Unlike `str.isdigit()`, which accepts "²" and
    other Unicode digits that int() then refuses, and any length (int() refuses 5,000 digits):
    both were 500s."""
    return isinstance(value, str) and _INT_TEXT.fullmatch(value) is not None
