"""Points bank (网络研修积分, SPEC §6): earning rules, an append-only points ledger with a cached
balance per teacher and year, exchange for hours, the year-end expiry."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Teacher

POINTS_PER_HOUR = 100
CAP_HOURS = {"professional": 10, "elective": 10}  # per teacher and year, pending requests included


class RuleKind(models.TextChoices):
    BASIC = "basic", _("基础积分")
    BONUS = "bonus", _("奖励积分")


class EarningRule(models.Model):
    """How many points an action of the online research platform earns, with its limits."""

    action_code = models.CharField(_("行为代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    points = models.PositiveIntegerField(_("每次积分"), validators=[MinValueValidator(1)])
    kind = models.CharField(_("类型"), max_length=8, choices=RuleKind.choices, default=RuleKind.BASIC)
    daily_limit = models.PositiveIntegerField(_("每日上限（积分）"), null=True, blank=True)
    yearly_limit = models.PositiveIntegerField(_("每年上限（积分）"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["action_code"]
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")

    def __str__(self) -> str:
        return f"{self.action_code} {self.name}"


class ExchangeWindow(models.Model):
    """The dates of a year in which points may be exchanged for hours."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    opens_on = models.DateField(_("开始日期"))
    closes_on = models.DateField(_("结束日期"))

    class Meta:
        ordering = ["-year"]

    def clean(self) -> None:
        if self.opens_on and self.closes_on:
            if self.closes_on < self.opens_on:
                raise ValidationError({"closes_on": _("结束日期不能早于开始日期。")})
            if self.opens_on.year != self.year or self.closes_on.year != self.year:
                raise ValidationError({"opens_on": _("兑换窗口须在该年度内（积分只在当年有效）。")})

    def is_open(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on


class PointsAccount(models.Model):
    """Cached balance of one teacher's points for one year; kept equal to the sum of its entries
    in the same transaction, under this row's lock."""

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="points_accounts")
    year = models.PositiveIntegerField()
    balance = models.IntegerField(default=0)  # available points
    held = models.IntegerField(default=0)  # points held by pending requests

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["teacher", "year"], name="one_points_account_per_year"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_never_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="points_held_never_negative"),
        ]


class EntryKind(models.TextChoices):
    EARNED = "earned", _("获得")
    HELD = "held", _("兑换冻结")
    SPENT = "spent", _("已兑换")
    RELEASED = "released", _("解冻退回")
    EXPIRED = "expired", _("年末清零")


class PointsEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The points ledger is append-only: entries are never updated.")

    def delete(self):
        raise TypeError("The points ledger is append-only: entries are never deleted.")


class PointsEntry(models.Model):
    """One immutable movement. `delta` is its effect on the available balance (earned +, held −,
    released +, expired −, spent 0: the held points are consumed); `amount` is the points moved."""

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    delta = models.IntegerField()
    amount = models.PositiveIntegerField()
    rule = models.ForeignKey(EarningRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey("ExchangeRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    event_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    occurred_on = models.DateField(default=timezone.localdate)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PointsEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["account", "kind"]), models.Index(fields=["rule", "occurred_on"])]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The points ledger is append-only: entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The points ledger is append-only: entries are never deleted.")


class RequestState(models.TextChoices):
    PENDING = "pending", _("待学校确认")
    PAID = "paid", _("已兑换")
    REFUSED = "refused", _("未通过")
    CANCELLED = "cancelled", _("已取消")


class ExchangeRequest(models.Model):
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="exchange_requests")
    year = models.PositiveIntegerField(_("年度"))
    category = models.CharField(
        _("兑换为"), max_length=16, choices=[("professional", _("专业科目")), ("elective", _("个人选修科目"))]
    )
    hours = models.PositiveIntegerField(_("学时"), validators=[MinValueValidator(1)])
    points = models.PositiveIntegerField(_("积分"))
    state = models.CharField(_("状态"), max_length=10, choices=RequestState.choices, default=RequestState.PENDING, db_index=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The lists walk these backwards, newest first, a page at a time (API keyset, the school's page).
            models.Index(fields=["created_at", "id"], name="points_req_created_idx"),
            models.Index(fields=["state", "created_at", "id"], name="points_req_state_created_idx"),
        ]


class EventStatus(models.TextChoices):
    ACCEPTED = "accepted", _("已计入")
    REFUSED = "refused", _("未计入")


class PointsEvent(models.Model):
    """Every event the platform sent, accepted or refused with the reason: the same event id twice
    gets the same answer and changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    teacher_key = models.CharField(max_length=20)
    action_code = models.CharField(max_length=64)
    occurred_on = models.DateField()
    status = models.CharField(max_length=10, choices=EventStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class PointsImport(models.Model):
    """An Excel file of platform events: dry run (format problems by row), then every event goes
    through the same earning rules as the API; the result of each row is kept."""

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="points_imports/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, default="validated")  # validated / failed / imported
    total_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    accepted = models.PositiveIntegerField(default=0)
    refused = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
