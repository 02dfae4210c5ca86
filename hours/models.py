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

from accounts.models import Organisation, Teacher

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
    def check_supported(cls, year: int) -> None:
        if year not in cls.SUPPORTED:
            bounds = {"first": cls.SUPPORTED[0], "last": cls.SUPPORTED[-1]}
            raise ValidationError({"year": _("年度须在%(first)s至%(last)s之间。") % bounds})

    @classmethod
    def of(cls, year: int) -> Year:
        """The year as stored, or with its default deadlines (unsaved) while nobody stored it: a read never writes."""
        cls.check_supported(year)
        return cls.objects.filter(year=year).first() or cls(year=year, **cls.defaults_for(year))

    @classmethod
    def of_many(cls, years: list[int]) -> dict[int, Year]:
        """`Year.of` for several years in one query."""
        stored = {y.year: y for y in cls.objects.filter(year__in=list(years))}
        return {y: stored.get(y) or cls(year=y, **cls.defaults_for(y)) for y in years if y in cls.SUPPORTED}

    @classmethod
    def get_or_create_for(cls, year: int) -> Year:
        """For services that change the year (deadlines, lock, policies): the stored row, created with the
        default deadlines on first use."""
        cls.check_supported(year)
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
        "training.TrainingProject",
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
        indexes = [
            models.Index(fields=["teacher", "year", "category"]),
            # The ledger list's sort (API keyset pagination walks it; no sort of the whole table).
            models.Index(fields=["year", "created_at", "id"], name="ledger_list_order"),
        ]
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
# Undecided declarations: voided when their year closes.
OPEN_STATES = (S.DRAFT, S.SUBMITTED, S.SCHOOL_APPROVED, S.RETURNED)
# Waiting in a review queue (the school's, the district's: hours.selectors.QUEUE_STATE).
QUEUED = models.Q(state__in=[S.SUBMITTED, S.SCHOOL_APPROVED])
# Waiting for the school's review (初审) and the district's (复审): what the school-first and district-first
# queue indexes hold.
SCHOOL_QUEUED = models.Q(state=S.SUBMITTED)
DISTRICT_QUEUED = models.Q(state=S.SCHOOL_APPROVED)


class Declaration(ConcurrentTransitionMixin, models.Model):
    """A teacher's declaration of training done elsewhere (个人申报), reviewed twice.

    The state changes only through the transitions below, and those only through
    `hours.services.declaration_transition`, which checks scope, deadline and locks.
    """

    teacher = models.ForeignKey(Teacher, on_delete=models.PROTECT, related_name="declarations")
    # The teacher's *current* school and its district (or city-direct unit): what scopes the declaration for a
    # school and a district admin (`declarations_visible_to`: the teacher's school; the school's path under the
    # district's). Stored so that a school's and a district's review queue in submission order are each one
    # index range, instead of a walk of the city's queue probing each row's teacher and school (the district)
    # or a sort of the school's teachers' declarations (the school). Set when created (`save`, and under locks
    # by `hours.services.declaration_save`); they follow the teacher's transfer and the school's move to
    # another district (`hours.services.declarations_follow_*`, called by the accounts services' hooks).
    school = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
    district = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False)
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

    @property
    def state_fields(self):
        """ConcurrentTransitionMixin's state fields: `state` alone. The mixin finds them by testing every field of
        the model, on each instance it makes (~80 Python calls a row of a list of declarations)."""
        return (self._meta.get_field("state"),)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            # State and year filters; the years anything waits in (`hours.selectors._years_in_state`).
            models.Index(fields=["state", "year", "teacher"], name="declaration_state_year"),
            # The declaration list's sort, walked backwards (newest first) by keyset pagination.
            models.Index(fields=["updated_at", "id"], name="declaration_list_order"),
            # The review queues, oldest submission first: a school's (初审) one range of its waiting declarations,
            # unfiltered or by year (the per-year counts read it alone); a district's (复审) the same, or with a
            # rare filter (a category or an activity type few have, the suspected duplicates) one range of the
            # filter's own entries (a school's few dozen are filtered as they are read). Only what waits at each
            # level is indexed.
            models.Index(fields=["school", "submitted_at", "id"], name="declaration_school_queue", condition=SCHOOL_QUEUED),
            models.Index(
                fields=["school", "year", "submitted_at", "id"], name="declaration_school_year", condition=SCHOOL_QUEUED
            ),
            models.Index(fields=["district", "submitted_at", "id"], name="declaration_district_queue", condition=DISTRICT_QUEUED),
            models.Index(
                fields=["district", "year", "submitted_at", "id"], name="declaration_district_year", condition=DISTRICT_QUEUED
            ),
            models.Index(
                fields=["district", "category", "submitted_at", "id"],
                name="declaration_district_category",
                condition=DISTRICT_QUEUED,
            ),
            models.Index(
                fields=["district", "activity_type", "submitted_at", "id"],
                name="declaration_district_activity",
                condition=DISTRICT_QUEUED,
            ),
            models.Index(
                fields=["district", "submitted_at", "id"],
                name="declaration_district_dups",
                condition=DISTRICT_QUEUED & ~models.Q(duplicate_flags=[]),
            ),
            # The duplicate check on submit looks certificate numbers up across every declaration.
            models.Index(fields=["certificate_number"], name="declaration_certificate"),
        ]
        verbose_name = _("学时申报")
        verbose_name_plural = _("学时申报")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    def save(self, *args, **kwargs) -> None:
        if (self.school_id is None or self.district_id is None) and self.teacher_id is not None:
            self.school_id, self.district_id = self.teacher.school_id, self.teacher.school.parent_id
        super().save(*args, **kwargs)

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
        kinds: list[str] = [EvidenceKind.CERTIFICATE]
        if not self.certificate_in_chinese:
            kinds.append(EvidenceKind.TRANSLATION)
        if not self.certificate_states_hours:
            kinds.append(EvidenceKind.HOURS_STATEMENT)
        return kinds

    # --- transitions (called only by hours.services.declaration_transition) ---

    @transition(field=state, source=[S.DRAFT, S.RETURNED], target=S.SUBMITTED)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @transition(field=state, source=[S.SUBMITTED, S.SCHOOL_APPROVED], target=S.DRAFT)
    def withdraw(self) -> None:
        """The teacher takes a declaration back before its hours count, to correct and resubmit it."""
        self.submitted_at = None

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


def staged_upload_path(instance: StagedUpload, filename: str) -> str:
    # Platform-generated names only, as for evidence; the uploaded name is kept as text.
    return f"staged/{timezone.now():%Y/%m/%d}/{instance.token}{instance.extension}"


class StagedUpload(models.Model):
    """A file a teacher chose on the declaration form that passed its own checks while the form did not.

    Browsers cannot put a chosen file back into a file input, so the server keeps it for its owner: the
    re-rendered form lists it under its field and the next submit counts it as chosen. A successful save
    moves it into the declaration's evidence and deletes this row (`services.declaration_save`); what is
    left is deleted with its file after `STAGED_UPLOAD_MAX_AGE` (`services.staged_uploads_prune`, daily).
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staged_uploads")
    kind = models.CharField(_("材料类型"), max_length=20, choices=EvidenceKind.choices)
    file = models.FileField(upload_to=staged_upload_path, max_length=200)
    token = models.CharField(max_length=32, unique=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["pk"]

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(self.content_type, ".bin")
