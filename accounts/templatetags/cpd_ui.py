"""Template filters used on every page (registered as builtins in settings.TEMPLATES): one way to
show hours, signed movements, and stored messages in the reader's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from cpd.i18n import translate_stored

register = template.Library()

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
