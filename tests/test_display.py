"""How figures and stored texts are shown: hours with one decimal, signed movements, stored
Chinese messages translated when read in English, export kinds and run counts as words, a favicon."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.utils import translation

from hours.models import Notification
from verification.models import ExportJob, ExportStatus, VerificationRun


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize(("value", "shown"), [(30, "30.0"), (Decimal("30.0"), "30.0"), ("7.25", "7.3"), (Decimal("0"), "0.0")])
def test_hours_always_show_one_decimal(value, shown):
    assert _render("{{ v|hours }}", v=value) == shown


@pytest.mark.parametrize(("value", "shown"), [(300, "+300"), (-300, "−300"), (0, "0")])
def test_movements_carry_their_sign(value, shown):
    assert _render("{{ v|signed }}", v=value) == shown


def test_a_notification_stored_in_chinese_reads_in_english_for_an_english_reader(world):
    user = world.users["teacher_a1"]
    Notification.objects.create(user=user, message="您对2025年度验证结果的异议已处理：核对后维持原结果")
    client = world.client("teacher_a1")
    zh = client.get("/hours/notifications/").content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get("/hours/notifications/").content.decode()

    assert "您对2025年度验证结果的异议已处理" in zh
    with translation.override("en"):
        expected = translation.gettext("您对%(year)s年度验证结果的异议已处理：%(r)s") % {"year": 2025, "r": "核对后维持原结果"}
    assert expected in en and "您对2025年度" not in en
    assert 'data-testid="unread-' in en  # unread notifications are marked


def test_export_kinds_and_run_counts_are_words_not_codes(world):
    ExportJob.objects.create(kind="provincial_xlsx", organisation=world.city, status=ExportStatus.PENDING, params={"year": 2025})
    VerificationRun.objects.create(year=2025, status="done", counts={"failed": 60, "passed": 232}, total=292)
    client = world.client("city_admin")
    exports = client.get("/verification/exports/").content.decode()
    runs = client.get("/verification/runs/").content.decode()
    assert "省人社系统（xlsx）" in exports and "provincial_xlsx</td>" not in exports
    assert "failed:" not in runs and "passed:" not in runs
    assert re.search(r"合格 232 · 不合格 60", runs)


def test_every_page_names_a_favicon_that_exists(world):
    html = world.client("teacher_a1").get("/").content.decode()
    href = re.search(r'<link rel="icon" href="/static/([^"]+)"', html).group(1)
    assert finders.find(href)
