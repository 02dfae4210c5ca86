"""Template filters used on every page (registered as builtins in settings.TEMPLATES): one way to
show hours, signed movements, and stored messages in the reader's language; and the menu."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from cpd.i18n import translate_stored

register = template.Library()

_menus: dict[tuple, SafeString] = {}


@register.simple_tag(takes_context=True)
def main_menu(context) -> SafeString:
    """templates/includes/nav.html for the active role, rendered once per role kind, regime, language and
    URL prefix in a process: its ~30 links and labels (a {% url %} and a {% trans %} each) were some 5,000
    Python calls, a fifth of a small page. The menu may depend on nothing else."""
    role = context.get("active_role")
    regime = context.get("regime")
    key = (getattr(role, "kind", None), regime, get_language(), get_script_prefix(), get_urlconf())
    menu = _menus.get(key)
    if menu is None:
        menu = _menus[key] = mark_safe(render_to_string("includes/nav.html", {"active_role": role, "regime": regime}))
    return menu


MINUS = "\u2212"  # a real minus sign, as wide as the plus


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def hours(value) -> str:
    """Hours always with one decimal: 30 → "30.0", 7.25 → "7.3" (the ledger keeps tenths)."""
    d = _decimal(value)
    if d is None:
        return "" if value is None else str(value)
    return f"{d.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):.1f}".replace("-", MINUS)


@register.filter
def signed(value) -> str:
    """A movement with its sign: +300, −300, 0."""
    d = _decimal(value)
    if d is None:
        return "" if value is None else str(value)
    text = f"{abs(d):f}".rstrip("0").rstrip(".") if "." in f"{d:f}" else f"{abs(d)}"
    return f"+{text}" if d > 0 else f"{MINUS}{text}" if d < 0 else "0"


@register.filter
def signed_hours(value) -> str:
    d = _decimal(value)
    if d is None:
        return ""
    return ("+" if d > 0 else "") + hours(d)


@register.filter(name="stored_trans")
def stored_trans(value) -> str:
    """A message stored in Chinese, shown in the reader's language when the catalogue knows it."""
    return translate_stored(str(value)) if value is not None else ""
