"""The five-year cycle regime (Henan / Zhengzhou, SPEC §7): the cycle policy, teachers' cycles and
their registration certificates.

Moved here from `verification` (the tables keep their `verification_` names: no data moved). This
app is installed only in a cycle deployment (`CPD_REGIME=cycle`).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Teacher


class CyclePolicy(models.Model):
    """The cycle rules: the second policy kind next to the annual one (one row per deployment)."""

    total_hours = models.DecimalField(_("周期总学时"), max_digits=6, decimal_places=1, default=Decimal("360"))
    min_school_based = models.DecimalField(_("其中校本研修不少于"), max_digits=6, decimal_places=1, default=Decimal("80"))
    years = models.PositiveIntegerField(_("周期年数"), default=5)
    pace_per_year = models.DecimalField(_("每年进度"), max_digits=6, decimal_places=1, default=Decimal("72"))
    new_teacher_hours = models.DecimalField(_("新教师首年培训学时"), max_digits=6, decimal_places=1, default=Decimal("120"))
    certificate_valid_years = models.PositiveIntegerField(_("登记证书有效年数"), default=5)

    class Meta:
        db_table = "verification_cyclepolicy"

    @classmethod
    def current(cls) -> CyclePolicy:
        """The deployment's policy, or the regulation's defaults (unsaved) while none is stored: a read never writes."""
        return cls.objects.order_by("pk").first() or cls()


class CycleState(models.TextChoices):
    ACTIVE = "active", _("进行中")
    COMPLETED = "completed", _("已完成")
    LAPSED = "lapsed", _("已结束（未完成）")


class TeacherCycle(models.Model):
    """A teacher's five-year cycle: from the last certificate's date (or first employment)."""

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="cycles")
    start_date = models.DateField(_("周期开始"))
    end_date = models.DateField(_("周期结束"))
    state = models.CharField(max_length=12, choices=CycleState.choices, default=CycleState.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "verification_teachercycle"
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher"], condition=Q(state=CycleState.ACTIVE), name="one_active_cycle_per_teacher"
            ),
        ]


class CycleCertificate(models.Model):
    """The registration certificate (登记证书) of a completed cycle; its code is checked on a public page."""

    cycle = models.OneToOneField(TeacherCycle, on_delete=models.PROTECT, related_name="certificate")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="cycle_certificates")
    code = models.CharField(_("验证码"), max_length=32, unique=True)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"))
    total_hours = models.DecimalField(max_digits=7, decimal_places=1)
    school_based_hours = models.DecimalField(max_digits=7, decimal_places=1)
    exempt_by_degree = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "verification_cyclecertificate"
        ordering = ["-issued_on"]


class CycleSchoolCount(models.Model):
    """Per school: the cycle statistics' counts as `cycles.rules.cycle_counts_refresh` found them (hourly beat
    task `cycles.tasks.refresh_cycle_counts`, through the one counting rule). The district's and the city's
    statistics sum these rows: working out every teacher's cycle of a city of 200,000 took 10–35 s a view."""

    school = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    teachers = models.PositiveIntegerField(default=0)
    with_cycle = models.PositiveIntegerField(default=0)
    complete = models.PositiveIntegerField(default=0)
    behind = models.PositiveIntegerField(default=0)
    certified_this_year = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()
