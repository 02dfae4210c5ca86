"""Resident ID numbers (身份证号, GB 11643): validation and masking.

python-stdnum's `cn.ric.validate` also insists that the region code is a known
county; the platform accepts unknown regions (codes are reassigned over time and
stdnum's table lags), so it checks length, format, birth date and check digit only,
each with stdnum's own functions.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric


def normalise_id_number(value: str) -> str:
    return ric.compact(str(value or "")).upper()


def id_number_error(value: str) -> str | None:
    """The reason `value` is not a valid resident ID number, or None if it is."""
    number = normalise_id_number(value)
    if len(number) != 18:
        return _("身份证号应为18位")
    if not number.isascii() or not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        return _("身份证号格式不正确")
    try:
        birth = ric.get_birth_date(number)
    except Exception:
        return _("身份证号中的出生日期无效")
    if birth > datetime.date.today() or birth.year < 1900:
        return _("身份证号中的出生日期无效")
    if number[-1] != ric.calc_check_digit(number):
        return _("身份证号校验位错误")
    return None


def validate_id_number(value: str) -> None:
    error = id_number_error(value)
    if error:
        raise ValidationError(error, code="invalid_id_number")


def mask_id_number(value: str) -> str:
    """`440104198001011234` -> `4401**********1234` (SPEC §2)."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def gender_from_id_number(value: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    number = normalise_id_number(value)
    return "M" if int(number[16]) % 2 else "F"


def make_id_number(region: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid number (demo data, tests): region(6) + birth(8) + sequence(3) + check digit."""
    body = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def mask_name(name: str) -> str:
    """陈晓明 → 陈*明; 王芳 → 王*: enough to recognise, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
