"""Training projects, enrolment, attendance registration, extensions, registration complaints,
online courses and the hours imports (SPEC §3 source 2, §8).

These models moved here from `hours` (their tables keep the `hours_` names: no data moved).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Teacher
from hours.models import HOURS_PER_DAY, Category, LedgerEntry

# --- training projects, enrolment, registration (SPEC §3 source 2, §8) -------------------------


class ProjectLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    DISTRICT = "district", _("区级")
    SCHOOL = "school", _("校级")


class ProjectKind(models.TextChoices):
    TRAINING = "training", _("集中培训")
    SCHOOL_BASED = "school_based", _("校本培训")
    TEACHING_RESEARCH = "teaching_research", _("教研活动")
    NEW_TEACHER = "new_teacher", _("新教师培训")


# Kinds whose hours are school-based (校本研修) under the five-year cycle regime (SPEC §7).
SCHOOL_BASED_KINDS = (ProjectKind.SCHOOL_BASED, ProjectKind.TEACHING_RESEARCH)


class TargetStage(models.TextChoices):
    """Which teachers a project is designed for; under the cycle regime it decides who may design it."""

    ANY = "any", _("不限")
    SENIOR = "senior", _("高中")
    JUNIOR = "junior", _("初中")
    PRIMARY = "primary", _("小学")
    KINDERGARTEN = "kindergarten", _("幼儿园")


class ApprovalState(models.TextChoices):
    NOT_NEEDED = "not_needed", _("无需审批")
    PENDING = "pending", _("待市里审批")
    APPROVED = "approved", _("市里已批准")
    REFUSED = "refused", _("市里未批准")


class ProjectMode(models.TextChoices):
    FACE_TO_FACE = "face_to_face", _("面授")
    ONLINE = "online", _("网络")


class TrainingProject(models.Model):
    """A training an organiser publishes, enrols teachers in, and registers hours for (学时登记)."""

    organiser = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="projects"
    )
    title = models.CharField(_("项目名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))])
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    level = models.CharField(_("级别"), max_length=16, choices=ProjectLevel.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=ProjectKind.choices, default=ProjectKind.TRAINING)
    mode = models.CharField(_("形式"), max_length=16, choices=ProjectMode.choices, default=ProjectMode.FACE_TO_FACE)
    enrolment_start = models.DateField(_("报名开始"), null=True, blank=True)
    enrolment_end = models.DateField(_("报名截止"), null=True, blank=True)
    description = models.TextField(_("简介"), blank=True)
    target_stage = models.CharField(_("面向学段"), max_length=16, choices=TargetStage.choices, default=TargetStage.ANY)
    for_key_teachers = models.BooleanField(_("骨干教师项目"), default=False)
    approval = models.CharField(_("市级审批"), max_length=12, choices=ApprovalState.choices, default=ApprovalState.NOT_NEEDED)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "hours_trainingproject"
        ordering = ["-start_date", "-pk"]
        # The home's enrolment to-do walks projects by start and stops at the first with a waiting enrolment.
        indexes = [models.Index(fields=["start_date", "id"], name="project_start_idx")]
        verbose_name = _("培训项目")
        verbose_name_plural = _("培训项目")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.start_date and self.end_date:
            if self.end_date < self.start_date:
                errors.setdefault("end_date", []).append(_("结束日期不能早于开始日期。"))
            elif self.end_date.year != self.start_date.year:
                errors.setdefault("end_date", []).append(_("项目须在同一年度内。"))
            elif self.hours and self.hours > ((self.end_date - self.start_date).days + 1) * HOURS_PER_DAY:
                errors.setdefault("hours", []).append(_("学时超过了培训天数×6。"))
        if (self.enrolment_start is None) != (self.enrolment_end is None):
            errors.setdefault("enrolment_end", []).append(_("报名开始和截止日期须同时填写。"))
        elif self.enrolment_start and self.enrolment_end and self.enrolment_end < self.enrolment_start:
            errors.setdefault("enrolment_end", []).append(_("报名截止不能早于报名开始。"))
        if errors:
            raise ValidationError(errors)

    @property
    def year(self) -> int:
        return self.start_date.year

    @property
    def has_enrolment(self) -> bool:
        return self.enrolment_start is not None

    def default_registration_deadline(self) -> datetime.date:
        """Dec 31 for city/district training; Jan 31 next year for school-based training and teaching research."""
        if self.kind in (ProjectKind.SCHOOL_BASED, ProjectKind.TEACHING_RESEARCH):
            return datetime.date(self.year + 1, 1, 31)
        return datetime.date(self.year, 12, 31)

    def registration_deadline(self) -> datetime.date:
        """The default deadline, or the latest extension the city granted."""
        granted = [e.granted_until for e in self.extensions.all() if e.state == ExtensionState.GRANTED and e.granted_until]
        return max([self.default_registration_deadline(), *granted])

    def enrolment_open(self, today: datetime.date) -> bool:
        return (
            self.published_at is not None
            and self.enrolment_start is not None
            and self.enrolment_end is not None
            and self.enrolment_start <= today <= self.enrolment_end
        )


class ProjectQuota(models.Model):
    project = models.ForeignKey(TrainingProject, on_delete=models.CASCADE, related_name="quotas")
    district = models.ForeignKey("accounts.Organisation", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+")
    quota = models.PositiveIntegerField(_("名额"))

    class Meta:
        db_table = "hours_projectquota"
        constraints = [models.UniqueConstraint(fields=["project", "district"], name="uniq_project_district_quota")]


class EnrolmentState(models.TextChoices):
    APPLIED = "applied", _("待校长审核")
    PRINCIPAL_APPROVED = "principal_approved", _("待区审核")
    DISTRICT_APPROVED = "district_approved", _("待市确认")
    FINAL = "final", _("已确认")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


E = EnrolmentState
LIVE_ENROLMENT = (E.APPLIED, E.PRINCIPAL_APPROVED, E.DISTRICT_APPROVED, E.FINAL)


class Enrolment(ConcurrentTransitionMixin, models.Model):
    """A teacher's enrolment: principal, then district, then the city finalises (SPEC §8)."""

    project = models.ForeignKey(TrainingProject, on_delete=models.CASCADE, related_name="enrolments")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="enrolments")
    district = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    # The teacher's current school, which decides who sees the enrolment (`training.projects.enrolments_visible_to`);
    # `district` is the quota's, fixed at enrolment. Set on creation (`enrolment_apply`) and moved with the teacher by
    # a trigger on the teachers' table (migration 0004), whatever writes the teacher's school.
    school = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    state = FSMField(_("状态"), default=E.APPLIED, choices=EnrolmentState.choices, protected=True, db_index=True)
    reason = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "hours_enrolment"
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "teacher"], name="uniq_enrolment")]
        # The page and the API list walk (created_at, id), all or one state (a reviewer's queue).
        indexes = [
            models.Index(fields=["created_at", "id"], name="enrolment_created_idx"),
            models.Index(fields=["state", "created_at", "id"], name="enrolment_state_created_idx"),
            # A project's enrolments by state, oldest first: the project page's keyset pages, and the home's
            # to-do, which probes each project for a waiting one.
            models.Index(fields=["project", "state", "created_at", "id"], name="enrolment_project_state_idx"),
            # A school's enrolments by state, oldest first: an area's waiting ones are the ranges of its schools (the
            # home's capped count), a school's queue one range.
            models.Index(fields=["school", "state", "created_at", "id"], name="enrolment_school_state_idx"),
        ]

    @transition(field=state, source=E.APPLIED, target=E.PRINCIPAL_APPROVED)
    def principal_approve(self) -> None:
        pass

    @transition(field=state, source=E.PRINCIPAL_APPROVED, target=E.DISTRICT_APPROVED)
    def district_approve(self) -> None:
        pass

    @transition(field=state, source=E.DISTRICT_APPROVED, target=E.FINAL)
    def finalise(self) -> None:
        pass

    @transition(field=state, source=[E.APPLIED, E.PRINCIPAL_APPROVED, E.DISTRICT_APPROVED], target=E.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=[E.APPLIED, E.PRINCIPAL_APPROVED, E.DISTRICT_APPROVED], target=E.WITHDRAWN)
    def withdraw(self) -> None:
        pass

    @transition(field=state, source=[E.REJECTED, E.WITHDRAWN], target=E.APPLIED)
    def reapply(self) -> None:
        pass


class EnrolmentEvent(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=20, choices=EnrolmentState.choices)
    to_state = models.CharField(max_length=20, choices=EnrolmentState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "hours_enrolmentevent"
        ordering = ["created_at", "pk"]


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("待审批")
    GRANTED = "granted", _("已批准")
    REFUSED = "refused", _("未批准")


class RegistrationExtension(models.Model):
    """An organiser's written request (by Dec 1) to register hours after the deadline; the city decides."""

    project = models.ForeignKey(TrainingProject, on_delete=models.CASCADE, related_name="extensions")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_until = models.DateField(_("申请延至"))
    reason = models.CharField(_("理由"), max_length=1000)
    state = models.CharField(_("状态"), max_length=16, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    granted_until = models.DateField(_("批准延至"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "hours_registrationextension"
        ordering = ["-created_at"]


class OnlineCourse(models.Model):
    """A course of the online learning platform; completions arrive through the platform API."""

    code = models.CharField(_("课程编号"), max_length=64, unique=True)
    title = models.CharField(_("课程名称"), max_length=200)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))])
    provider = models.CharField(_("提供方"), max_length=200, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "hours_onlinecourse"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class HoursImportKind(models.TextChoices):
    REGISTRATION = "registration", _("学时登记")
    PROVINCIAL = "provincial", _("省平台公需科目")


class HoursImportStatus(models.TextChoices):
    VALIDATING = "validating", _("校验中")
    VALIDATED = "validated", _("校验通过")
    FAILED = "failed", _("有错误")
    IMPORTING = "importing", _("导入中")
    IMPORTED = "imported", _("已导入")


class HoursImport(models.Model):
    """An uploaded hours file (attendance registration or provincial public subjects): dry run, then confirm."""

    kind = models.CharField(max_length=16, choices=HoursImportKind.choices)
    project = models.ForeignKey(TrainingProject, null=True, blank=True, on_delete=models.CASCADE, related_name="imports")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="hours_imports/")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=HoursImportStatus.choices)
    total_rows = models.PositiveIntegerField(default=0)
    new_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "hours_hoursimport"
        ordering = ["-created_at"]


class ComplaintState(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已更正")
    DISMISSED = "dismissed", _("维持原登记")


class RegistrationComplaint(models.Model):
    """A teacher's objection to a registered entry; it goes to the project's organiser."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="complaints")
    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="registration_complaints")
    message = models.CharField(_("异议内容"), max_length=1000)
    state = models.CharField(_("状态"), max_length=16, choices=ComplaintState.choices, default=ComplaintState.OPEN)
    response = models.CharField(_("处理意见"), max_length=1000, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "hours_registrationcomplaint"
        ordering = ["-created_at"]
