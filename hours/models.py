"""The hours bank (学时银行), declarations with evidence, their review, notifications (SPEC §3–4)."""

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

HOURS_PER_DAY = 6  # SPEC §3: one training day counts as 6 hours


class Category(models.TextChoices):
    PUBLIC = "public", _("公需科目")
    PROFESSIONAL = "professional", _("专业科目")
    ELECTIVE = "elective", _("个人选修科目")


class Source(models.TextChoices):
    ONLINE_COURSE = "online_course", _("网络课程")
    REGISTRATION = "registration", _("培训学时登记")
    PROVINCIAL_IMPORT = "provincial_import", _("省平台公需科目导入")
    DECLARATION = "declaration", _("个人申报")
    POINTS_EXCHANGE = "points_exchange", _("积分兑换")
    CARRY_OVER = "carry_over", _("上年结转")
    CORRECTION = "correction", _("更正")


class ActivityType(models.TextChoices):
    """The recognised kinds of continuing education a declaration names (SPEC §3)."""

    REMOTE = "remote", _("远程培训与网络研修")
    TEACHING_RESEARCH = "teaching_research", _("教研活动")
    AUTHORITY_TRAINING = "authority_training", _("教育行政部门举办的培训班")
    DEGREE = "degree", _("学历教育")
    PRACTICE = "practice", _("到教学、科研、生产单位实践")
    TRAINER = "trainer", _("担任培训授课、工作坊主持人、工作室成员")
    CONFERENCE = "conference", _("学术会议、讲座")
    RESEARCH = "research", _("课题研究、论文、课程资源、著作")
    OTHER = "other", _("其他经认定的继续教育")


class Year(models.Model):
    """A calendar year's deadlines and lock (SPEC §4). The city edits the dates.

    Defaults: declarations until Dec 31 of the year, school review until Jan 31 and
    district review until Feb 28 of the next year. Deadlines are inclusive, in the
    platform's time zone.
    """

    # Years the platform keeps deadlines for; any other year number is bad input, not a row to create.
    SUPPORTED = range(2000, 2101)

    year = models.PositiveIntegerField(_("年度"), primary_key=True)
    declaration_deadline = models.DateField(_("申报截止"))
    school_review_deadline = models.DateField(_("学校初审截止"))
    district_review_deadline = models.DateField(_("区复审截止"))
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("年度")
        verbose_name_plural = _("年度")

    def __str__(self) -> str:
        return str(self.year)

    @classmethod
    def defaults_for(cls, year: int) -> dict[str, datetime.date]:
        return {
            "declaration_deadline": datetime.date(year, 12, 31),
            "school_review_deadline": datetime.date(year + 1, 1, 31),
            "district_review_deadline": datetime.date(year + 1, 2, 28),
        }

    @classmethod
    def get(cls, year: int) -> Year:
        if year not in cls.SUPPORTED:
            bounds = {"first": cls.SUPPORTED[0], "last": cls.SUPPORTED[-1]}
            raise ValidationError({"year": _("年度须在%(first)s至%(last)s之间。") % bounds})
        obj, _created = cls.objects.get_or_create(year=year, defaults=cls.defaults_for(year))
        return obj

    def clean(self) -> None:
        if not (self.declaration_deadline <= self.school_review_deadline <= self.district_review_deadline):
            raise ValidationError(_("截止日期应依次为：申报 ≤ 学校初审 ≤ 区复审。"))
        if self.declaration_deadline.year < self.year:
            raise ValidationError({"declaration_deadline": _("申报截止日期不能早于该年度。")})

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The hours ledger is append-only: entries are never updated.")

    def delete(self):
        raise TypeError("The hours ledger is append-only: entries are never deleted.")


class LedgerEntry(models.Model):
    """One immutable entry of the hours bank. A correction is a new, negative entry that revokes another.

    `source_ref` names what produced the entry ("declaration:42"); it is unique, so the
    same thing can never put hours in the bank twice.
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="ledger_entries")
    year = models.PositiveIntegerField(_("年度"), db_index=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    title = models.CharField(_("名称"), max_length=200)
    organiser = models.CharField(_("主办单位"), max_length=200, blank=True)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    certificate_number = models.CharField(_("证书编号"), max_length=100, blank=True, db_index=True)
    declaration = models.ForeignKey("Declaration", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    source_ref = models.CharField(max_length=120, null=True, blank=True, unique=True)
    school_based = models.BooleanField(_("校本研修"), default=False)
    new_teacher = models.BooleanField(_("新教师培训"), default=False)
    project = models.ForeignKey(
        "TrainingProject",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("培训项目"),
    )
    revokes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revoked_by", verbose_name=_("撤销的记录")
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["year", "created_at", "pk"]
        indexes = [models.Index(fields=["teacher", "year", "category"])]
        verbose_name = _("学时记录")
        verbose_name_plural = _("学时记录")

    def __str__(self) -> str:
        return f"{self.teacher_id} {self.year} {self.category} {self.hours}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The hours ledger is append-only: entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The hours ledger is append-only: entries are never deleted.")


class DeclarationState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待学校初审")
    SCHOOL_APPROVED = "school_approved", _("待区复审")
    APPROVED = "approved", _("已通过")
    RETURNED = "returned", _("已退回")
    REJECTED = "rejected", _("不予认定")
    VOID = "void", _("已作废")


S = DeclarationState
OPEN_STATES = (S.DRAFT, S.SUBMITTED, S.SCHOOL_APPROVED, S.RETURNED)


class Declaration(ConcurrentTransitionMixin, models.Model):
    """A teacher's declaration of training done elsewhere (个人申报), reviewed twice.

    The state changes only through the transitions below, and those only through
    `hours.services.declaration_transition`, which checks scope, deadline and locks.
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="declarations")
    year = models.PositiveIntegerField(_("年度"), db_index=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    activity_type = models.CharField(_("活动类型"), max_length=24, choices=ActivityType.choices)
    title = models.CharField(_("培训名称"), max_length=200)
    organiser = models.CharField(_("主办单位"), max_length=200)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))])
    certificate_number = models.CharField(_("证书编号"), max_length=100, blank=True)
    certificate_in_chinese = models.BooleanField(_("证书为中文"), default=True)
    certificate_states_hours = models.BooleanField(_("证书注明学时"), default=True)
    state = FSMField(_("状态"), default=S.DRAFT, choices=DeclarationState.choices, protected=True, db_index=True)
    duplicate_flags = models.JSONField(_("疑似重复"), default=list, blank=True)
    last_reason = models.CharField(_("最近意见"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["state", "year"])]
        verbose_name = _("学时申报")
        verbose_name_plural = _("学时申报")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.hours is not None and self.hours <= 0:
            errors.setdefault("hours", []).append(_("学时必须大于0。"))
        if self.start_date and self.end_date:
            if self.end_date < self.start_date:
                errors.setdefault("end_date", []).append(_("结束日期不能早于开始日期。"))
            if self.year is not None and (self.start_date.year != self.year or self.end_date.year != self.year):
                errors.setdefault("start_date", []).append(_("培训日期须在申报年度（%(year)s年）内。") % {"year": self.year})
            if self.end_date >= self.start_date and self.hours:
                days = (self.end_date - self.start_date).days + 1
                if self.hours > days * HOURS_PER_DAY:
                    errors.setdefault("hours", []).append(
                        _("%(days)s天的培训最多计 %(max)s 学时（每天6学时）。") % {"days": days, "max": days * HOURS_PER_DAY}
                    )
            if self.start_date > timezone.localdate():
                errors.setdefault("start_date", []).append(_("不能申报尚未开始的培训。"))
        if errors:
            raise ValidationError(errors)

    @property
    def is_editable(self) -> bool:
        return self.state in (S.DRAFT, S.RETURNED)

    def required_evidence_kinds(self) -> list[str]:
        """Which evidence the declaration needs: the certificate, plus a translation or hours statement when due."""
        kinds = [EvidenceKind.CERTIFICATE]
        if not self.certificate_in_chinese:
            kinds.append(EvidenceKind.TRANSLATION)
        if not self.certificate_states_hours:
            kinds.append(EvidenceKind.HOURS_STATEMENT)
        return kinds

    # --- transitions (called only by hours.services.declaration_transition) ---

    @transition(field=state, source=[S.DRAFT, S.RETURNED], target=S.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=state, source=S.SUBMITTED, target=S.SCHOOL_APPROVED)
    def school_approve(self) -> None:
        pass

    @transition(field=state, source=S.SUBMITTED, target=S.RETURNED)
    def school_return(self) -> None:
        pass

    @transition(field=state, source=S.SCHOOL_APPROVED, target=S.APPROVED)
    def district_approve(self) -> None:
        pass

    @transition(field=state, source=S.SCHOOL_APPROVED, target=S.RETURNED)
    def district_return(self) -> None:
        pass

    @transition(field=state, source=[S.SUBMITTED, S.SCHOOL_APPROVED], target=S.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_STATES), target=S.VOID)
    def void(self) -> None:
        pass


class DeclarationEvent(models.Model):
    """Who, when, from, to and why for every transition (append-only)."""

    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=24)
    from_state = models.CharField(max_length=16, choices=DeclarationState.choices)
    to_state = models.CharField(max_length=16, choices=DeclarationState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_role = models.CharField(max_length=20, blank=True)
    actor_org = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    ACTION_LABELS = {
        "submit": _("提交"),
        "school_approve": _("学校初审通过"),
        "school_return": _("学校退回"),
        "district_approve": _("区复审通过"),
        "district_return": _("区复审退回"),
        "reject": _("不予认定"),
        "void": _("逾期作废"),
    }

    @property
    def action_label(self) -> str:
        return str(self.ACTION_LABELS.get(self.action, self.action))


class EvidenceKind(models.TextChoices):
    CERTIFICATE = "certificate", _("证书原件扫描件/照片")
    TRANSLATION = "translation", _("学校盖章的中文翻译件")
    HOURS_STATEMENT = "hours_statement", _("学校盖章的学时证明")


def evidence_path(instance: Evidence, filename: str) -> str:
    # Platform-generated names only; the uploaded name is kept as text, never used as a path.
    now = timezone.now()
    return f"evidence/{now:%Y/%m}/{instance.sha256[:2]}/{instance.token}{instance.extension}"


class Evidence(models.Model):
    declaration = models.ForeignKey(Declaration, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("材料类型"), max_length=20, choices=EvidenceKind.choices, default=EvidenceKind.CERTIFICATE)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    token = models.CharField(max_length=32, unique=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(self.content_type, ".bin")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=500)
    link = models.CharField(max_length=200, blank=True)
    declaration = models.ForeignKey(Declaration, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]


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
        ordering = ["-start_date", "-pk"]
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
        return self.published_at is not None and self.has_enrolment and self.enrolment_start <= today <= self.enrolment_end


class ProjectQuota(models.Model):
    project = models.ForeignKey(TrainingProject, on_delete=models.CASCADE, related_name="quotas")
    district = models.ForeignKey("accounts.Organisation", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+")
    quota = models.PositiveIntegerField(_("名额"))

    class Meta:
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
    state = FSMField(_("状态"), default=E.APPLIED, choices=EnrolmentState.choices, protected=True, db_index=True)
    reason = models.CharField(_("意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "teacher"], name="uniq_enrolment")]

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
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class PlatformClient(models.Model):
    """An external platform that calls the API with its own key (online learning, online research points)."""

    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


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
        ordering = ["-created_at"]
