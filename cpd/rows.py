"""The rows of the long lists, written in Python: escaping and URLs for a loop of 25-100 rows.

Django's template engine spends ~20 Python calls on each `{{ variable }}` (resolve, localize,
template_localtime, conditional_escape) and more on each tag (`{% url %}` ~60, `{% blocktrans %}` ~100,
`{% csrf_token %}` ~50): a results page's 50 rows were two thirds of its CPU, the roster's 25 half of its.
A list view writes its rows with `html_format` from a format string next to the view (the page's
template keeps everything else), reversing a row's link once a page (`url_format`). The HTML is the
template's, byte for byte: each list's test renders the same rows through the template markup it replaced.
"""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # in Django, not in its stubs

# What django.utils.html.escape writes (html.escape with quote=True), in one str.translate.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def html_format(fmt: str, /, **values) -> SafeString:
    """`format_html(fmt, **values)`: every value escaped as `conditional_escape` escapes it (safe HTML,
    anything with `__html__`, stays as it is), in one C call a value instead of ~10 Python calls."""
    for name, value in values.items():
        if isinstance(value, SafeData) or hasattr(value, "__html__"):
            values[name] = value.__html__()
        else:
            values[name] = str(value).translate(_ESCAPES)
    return SafeString(fmt.format_map(values))


class _Later(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def html_partial(fmt: str, /, **constants) -> str:
    """`fmt` with a page's constants filled in, escaped as `html_format` escapes them, and every other
    placeholder left for `html_format` to fill per row: a row's labels, links and form token once a page.
    `fmt` has no literal braces."""
    for name, value in constants.items():
        text = value.__html__() if isinstance(value, SafeData) or hasattr(value, "__html__") else str(value).translate(_ESCAPES)
        constants[name] = text.replace("{", "{{").replace("}", "}}")
    return fmt.format_map(_Later(constants))


def shown(value) -> str:
    """What `{{ value }}` writes for a number or a date (in the reader's locale and time zone), unescaped. An
    integer without thousand separators is its digits: numberformat's own shortcut, without the ~30 Python
    calls of finding the locale's formats first."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return str(localize(template_localtime(value)))


def ymd(value) -> str:
    """What `{{ value|date:"Y-m-d" }}` writes: a date, or a time's date in the reader's time zone."""
    return date_filter(template_localtime(value), "Y-m-d")


def url_format(viewname: str) -> str:
    """The URL of `viewname` for one integer argument as a `str.format` pattern with one `{}`: what
    `reverse(viewname, args=[n])` gives, for `pattern.format(n)`."""
    marker = 918273645546372819  # an integer no URL prefix contains
    head, found, tail = reverse(viewname, args=[marker]).partition(str(marker))
    if not found:
        raise ValueError(f"{viewname} does not take one integer argument")
    return head.replace("{", "{{").replace("}", "}}") + "{}" + tail.replace("{", "{{").replace("}", "}}")
