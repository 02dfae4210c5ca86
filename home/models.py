"""Reminders sent (once per person, deadline and offset), the city's reminder offsets, and each
user's preferences: e-mail opt-out and the secret of their iCalendar feed."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def parse_offsets(value: str) -> list[int]:
    """'30, 7,1' → [30, 7, 1]; days before a deadline, each 0–366, no duplicates."""
    try:
        offsets = [int(part) for part in str(value).replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(_("请填写以逗号分隔的天数，例如 30,7,1。")) from None
    if not offsets or any(o < 0 or o > 366 for o in offsets) or len(set(offsets)) != len(offsets):
        raise ValidationError(_("请填写以逗号分隔的天数，例如 30,7,1。"))
    return sorted(offsets, reverse=True)


class ReminderSettings(models.Model):
    """How many days before each deadline the city reminds people (one row per deployment)."""

    offsets = models.CharField(_("提前提醒天数"), max_length=100, default="30,7,1", help_text=_("以逗号分隔，例如 30,7,1"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("截止提醒设置")
        verbose_name_plural = _("截止提醒设置")

    def __str__(self) -> str:
        return self.offsets

    def clean(self) -> None:
        self.offsets = ",".join(str(o) for o in parse_offsets(self.offsets))

    @classmethod
    def offset_list(cls) -> list[int]:
        row = cls.objects.order_by("pk").first()
        return parse_offsets(row.offsets if row else "30,7,1")


class Reminder(models.Model):
    """One reminder given to one person for one deadline at one offset: the unique constraint makes the
    daily job idempotent (a second run, or a second worker, inserts nothing and so sends nothing)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    deadline_key = models.CharField(max_length=64)
    offset = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=24)
    deadline = models.DateField()
    # The run that inserted the row: the rows a run inserted are exactly the ones it delivers.
    batch = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "deadline_key", "offset"], name="one_reminder_per_user_deadline_offset")
        ]


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class UserPreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="home_preference")
    email_reminders = models.BooleanField(_("接收截止提醒邮件"), default=True)
    # The secret of the user's iCalendar feed URL; replacing it revokes the old URL.
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class BehindCount(models.Model):
    """Per school and open year: its active teachers and how many are short of the year's minimums, as
    `home.behind.behind_refresh` found them (hourly, through the one counting rule). The area levels of
    "who is behind" sum these rows instead of computing the year's figures of every teacher in scope."""

    school = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    teachers = models.PositiveIntegerField(default=0)
    short = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "school"], name="one_behind_count_per_school_year")]
