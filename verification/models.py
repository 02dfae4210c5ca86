"""Annual verification (年度验证): year policies, runs, results with carry-over, exemptions,
public notice and complaints, confirmations and the city's finalisation (SPEC §5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Teacher

ZERO = Decimal("0")


class CarryRule(models.TextChoices):
    NONE = "none", _("不结转")
    RULE_2019 = "2019", _("2019规则：同时超过总学时和专业科目最低要求的部分")
    RULE_2022 = "2022", _("2022规则：专业科目超过最低要求的部分")


class YearPolicy(models.Model):
    """One year's minimums and carry-over rule. A year without a policy cannot be verified."""

    year = models.PositiveIntegerField(_("年度"), unique=True)
    min_total = models.DecimalField(_("总学时不少于"), max_digits=6, decimal_places=1, validators=[MinValueValidator(ZERO)])
    min_public = models.DecimalField(_("公需科目不少于"), max_digits=6, decimal_places=1, validators=[MinValueValidator(ZERO)])
    min_professional = models.DecimalField(
        _("专业科目不少于"), max_digits=6, decimal_places=1, validators=[MinValueValidator(ZERO)]
    )
    min_elective = models.DecimalField(_("个人选修不少于"), max_digits=6, decimal_places=1, validators=[MinValueValidator(ZERO)])
    hours_per_day = models.DecimalField(_("每天折算学时"), max_digits=4, decimal_places=1, default=Decimal("6"))
    carry_rule = models.CharField(_("结转规则"), max_length=8, choices=CarryRule.choices)
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("年度验证标准")
        verbose_name_plural = _("年度验证标准")

    def __str__(self) -> str:
        return str(self.year)

    def clean(self) -> None:
        parts = (self.min_public or ZERO) + (self.min_professional or ZERO) + (self.min_elective or ZERO)
        if self.min_total is not None and parts > self.min_total:
            raise ValidationError({"min_total": _("各类别最低学时之和不能超过总学时要求。")})

    @property
    def is_finalised(self) -> bool:
        return self.finalised_at is not None

    def minimums(self) -> dict[str, Decimal]:
        return {
            "public": self.min_public,
            "professional": self.min_professional,
            "elective": self.min_elective,
            "total": self.min_total,
        }


class PolicyRevision(models.Model):
    """Who changed a policy, when, and what it looked like after the change."""

    policy = models.ForeignKey(YearPolicy, on_delete=models.CASCADE, related_name="revisions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]


class RunStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    INTERRUPTED = "interrupted", _("已中断")
    FAILED = "failed", _("失败")


class VerificationRun(models.Model):
    year = models.PositiveIntegerField(_("年度"), db_index=True)
    district = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("区")
    )
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    # Started before the year's last review deadline: a trial (试算) whose results teachers never see.
    provisional = models.BooleanField(_("试算"), default=False)
    total = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    # Each chunk's block of teacher ids and scope ({"from", "to", "scope"}: `engine.plan_chunks`; runs
    # started before that hold lists of school ids), fixed when the run starts, so that workers and
    # re-deliveries agree on the work whatever changes in the roster meanwhile.
    chunk_plan = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One running run per year: a second start is refused by the database itself.
            models.UniqueConstraint(fields=["year"], condition=Q(status=RunStatus.RUNNING), name="one_running_run_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year} #{self.pk}"


class RunChunk(models.Model):
    """A chunk of a run that has been verified; the run is done when every planned chunk is."""

    run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="done_chunks")
    index = models.PositiveIntegerField()
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_row_per_run_chunk")]


class ResultStatus(models.TextChoices):
    PASSED = "passed", _("合格")
    FAILED = "failed", _("不合格")
    EXEMPT = "exempt", _("免验")


class VerificationResult(models.Model):
    """One teacher's verification for one year; upserted by every run until the year is finalised."""

    # No index of its own: the unique (teacher, year) index serves every lookup by teacher.
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="verification_results", db_index=False)
    year = models.PositiveIntegerField(_("年度"))
    run = models.ForeignKey(VerificationRun, null=True, on_delete=models.SET_NULL, related_name="results")
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    public = models.DecimalField(_("公需科目"), max_digits=7, decimal_places=1, default=ZERO)
    professional_own = models.DecimalField(_("专业科目（本年）"), max_digits=7, decimal_places=1, default=ZERO)
    elective = models.DecimalField(_("个人选修"), max_digits=7, decimal_places=1, default=ZERO)
    carry_in = models.DecimalField(_("上年结转"), max_digits=7, decimal_places=1, default=ZERO)
    professional = models.DecimalField(_("专业科目（含结转）"), max_digits=7, decimal_places=1, default=ZERO)
    total = models.DecimalField(_("总学时"), max_digits=7, decimal_places=1, default=ZERO)
    status = models.CharField(_("结果"), max_length=8, choices=ResultStatus.choices)
    short_public = models.DecimalField(max_digits=7, decimal_places=1, default=ZERO)
    short_professional = models.DecimalField(max_digits=7, decimal_places=1, default=ZERO)
    short_elective = models.DecimalField(max_digits=7, decimal_places=1, default=ZERO)
    short_total = models.DecimalField(max_digits=7, decimal_places=1, default=ZERO)
    carry_out = models.DecimalField(_("结转下年"), max_digits=7, decimal_places=1, default=ZERO)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["year", "teacher_id"]
        constraints = [models.UniqueConstraint(fields=["teacher", "year"], name="one_result_per_teacher_year")]
        # `run` has its foreign key's index. (year, school, teacher) is the results lists' sort and
        # serves the year's and a school's filters too.
        indexes = [models.Index(fields=["year", "school", "teacher"], name="result_list_order")]

    @property
    def passed(self) -> bool:
        return self.status == ResultStatus.PASSED

    @property
    def shortfalls(self) -> dict[str, Decimal]:
        return {
            "public": self.short_public,
            "professional": self.short_professional,
            "elective": self.short_elective,
            "total": self.short_total,
        }


class Exemption(models.Model):
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="exemptions")
    year = models.PositiveIntegerField(_("年度"))
    reason = models.CharField(_("原因"), max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["teacher", "year"], name="one_exemption_per_teacher_year")]


NOTICE_DAYS = 7


class Notice(models.Model):
    """A school's public notice of its results (公示), open for 7 days."""

    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notices")
    year = models.PositiveIntegerField(_("年度"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="one_notice_per_school_year")]

    @property
    def is_open(self) -> bool:
        return self.published_at <= timezone.now() < self.ends_at


class ComplaintField(models.TextChoices):
    PUBLIC = "public", _("公需科目学时")
    PROFESSIONAL = "professional", _("专业科目学时")
    ELECTIVE = "elective", _("个人选修学时")
    CARRY_IN = "carry_in", _("上年结转")
    STATUS = "status", _("验证结果")


class ComplaintState(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("属实，已更正")
    DISMISSED = "dismissed", _("不属实")


class ResultComplaint(models.Model):
    """A teacher's complaint about one figure of their published result; the district records the outcome."""

    result = models.ForeignKey(VerificationResult, on_delete=models.PROTECT, related_name="complaints")
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="complaints")
    # The school that scopes the complaint: always its result's school, which is what the scope read through
    # the result before (`complaints_visible_to`). Set when filed (`save`); a re-run that moves the result to
    # another school (the engine's upsert of a moved teacher) moves its complaints in the same statement, by
    # the trigger of verification 0012. Stored here so an area's open complaints are one index range per
    # school instead of a join of every complaint through its result.
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    field = models.CharField(_("对哪一项有异议"), max_length=16, choices=ComplaintField.choices)
    message = models.CharField(_("说明"), max_length=1000)
    state = models.CharField(_("状态"), max_length=16, choices=ComplaintState.choices, default=ComplaintState.OPEN)
    resolution = models.CharField(_("处理结果"), max_length=1000, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The API list and the page walk (created_at, id) backwards, newest first: all or one state.
            models.Index(fields=["created_at", "id"], name="result_complaint_created_idx"),
            models.Index(fields=["state", "created_at", "id"], name="result_complaint_state_idx"),
            # The scope: a school's complaints, an area's by its schools; with the notice, the home's open count
            # and the notices whose earliest end is its deadline are read from the index alone.
            models.Index(fields=["school", "state", "notice"], name="result_complaint_school_idx"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.school_id is None and self.result_id is not None:
            self.school_id = self.result.school_id
        super().save(*args, **kwargs)

    @property
    def needs_rerun(self) -> bool:
        """Corrected after the result was computed: the published figures are stale until the year is
        verified again (a run recomputes `result.computed_at`). Reads the prefetched corrections."""
        return any(c.created_at > self.result.computed_at for c in self.corrections.all())


class ComplaintCorrection(models.Model):
    """A ledger correction made while resolving a complaint: which complaint it answers, and the entry it
    wrote (a revoking entry, or missed hours added). The entry itself carries the hours, the reason and
    the actor; this row only links it to the complaint, since the hours app sits below verification."""

    complaint = models.ForeignKey(ResultComplaint, on_delete=models.PROTECT, related_name="corrections")
    entry = models.OneToOneField("hours.LedgerEntry", on_delete=models.PROTECT, related_name="complaint_correction")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    @property
    def is_revocation(self) -> bool:
        return self.entry.revokes_id is not None


class Confirmation(models.Model):
    """The principal confirms the school's results, then the district confirms its schools."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="verification_confirmations")
    year = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="one_confirmation_per_org_year")]


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("生成中")
    READY = "ready", _("可下载")
    FAILED = "failed", _("失败")


class ExportKind(models.TextChoices):
    STATISTICS = "statistics", _("统计（Excel）")
    RESULTS = "results", _("结果明细（Excel）")
    PROVINCIAL_XLSX = "provincial_xlsx", _("省人社系统（xlsx）")
    PROVINCIAL_CSV = "provincial_csv", _("省人社系统（csv）")
    TRANSCRIPTS = "transcripts", _("本校学时证明（ZIP）")


class ExportJob(models.Model):
    """A large export built by a Celery task and offered as a download when ready."""

    kind = models.CharField(_("类型"), max_length=32, choices=ExportKind.choices)
    params = models.JSONField(default=dict)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file = models.FileField(upload_to="exports/", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class StoredFigures(models.Model):
    """A year's stored figures for a unit (see SchoolYearStats and AreaYearStats)."""

    year = models.PositiveIntegerField(_("年度"))
    teachers = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    exempt = models.PositiveIntegerField(default=0)
    public = models.DecimalField(max_digits=12, decimal_places=1, default=ZERO)
    professional = models.DecimalField(max_digits=12, decimal_places=1, default=ZERO)
    elective = models.DecimalField(max_digits=12, decimal_places=1, default=ZERO)
    total_hours = models.DecimalField(max_digits=12, decimal_places=1, default=ZERO)
    computed_at = models.DateTimeField(default=timezone.now)
    teachers_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class SchoolYearStats(StoredFigures):
    """A school's figures for a year, stored so that statistics pages read a few thousand rows instead of
    aggregating every result per request (three full scans of a city's results took 0.9 s).

    Written by `verification.services.statistics_refresh`: for the run's scope when a run finishes
    (results change only through runs), and for active-teacher counts by the daily refresh job.
    `teachers` is the count of active teachers at `teachers_at`."""

    school = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "school"], name="one_stats_row_per_school_year")]


class AreaYearStats(StoredFigures):
    """An area's (district, city-direct unit, city, province) figures for a year: the sum of the stored
    rows of the schools below it, so that a city's statistics page and its home read one row per
    district instead of summing 15,000 school rows per request (three such sums took 60-110 ms at
    1,500,000 teachers).

    Written only by `verification.services.statistics_rollup`, right after the school rows change
    (`statistics_refresh`) and when a school moves to another district; `computed_at` and
    `teachers_at` are the latest of its schools'."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "year"], name="one_stats_row_per_area_year")]
