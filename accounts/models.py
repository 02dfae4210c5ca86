"""Organisations, users, roles and teacher records (SPEC §1–2)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from security.crypto import keyed_hash
from security.fields import EncryptedIdNumberField, KeyedHashField

from .idnumber import mask_id_number, validate_id_number


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    DISTRICT = "district", _("区（县）")
    CITY_DIRECT = "city_direct", _("市直属单位")
    SCHOOL = "school", _("学校")
    PROVIDER = "provider", _("培训机构")


# Which kind may hang under which: a city-direct unit plays a district's part.
ALLOWED_PARENT: dict[str, tuple[str | None, ...]] = {
    OrgKind.PROVINCE: (None,),
    # A province level sits above cities in the five-year cycle regime (SPEC §7).
    OrgKind.CITY: (None, OrgKind.PROVINCE),
    OrgKind.DISTRICT: (OrgKind.CITY,),
    OrgKind.CITY_DIRECT: (OrgKind.CITY,),
    OrgKind.SCHOOL: (OrgKind.DISTRICT, OrgKind.CITY_DIRECT),
    OrgKind.PROVIDER: (OrgKind.PROVINCE, OrgKind.CITY, OrgKind.DISTRICT, OrgKind.CITY_DIRECT),
}


class Organisation(models.Model):
    """A node of the tree city → district (or city-direct unit) → school.

    `path` is a materialised path of primary keys ("/1/4/17/") so that "everything
    below this organisation" is one indexed prefix match, whatever the depth.
    """

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("机构代码"), max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        allowed = ALLOWED_PARENT.get(self.kind, ())
        parent_kind = self.parent.kind if self.parent is not None else None
        if parent_kind not in allowed:
            raise ValidationError({"parent": _("该类型的机构不能挂在此上级机构下。")})

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        expected = (self.parent.path if self.parent is not None else "/") + f"{self.pk}/"
        if self.path != expected:
            self.path = expected
            Organisation.objects.filter(pk=self.pk).update(path=expected)

    @property
    def is_school(self) -> bool:
        return self.kind == OrgKind.SCHOOL

    def city(self) -> Organisation | None:
        """The city this organisation belongs to (itself for a city); None above a city (a province)."""
        ids = [int(x) for x in self.path.strip("/").split("/") if x]
        return Organisation.objects.filter(pk__in=ids, kind=OrgKind.CITY).first()

    @property
    def root_path(self) -> str:
        """The path of the top of this organisation's tree (the city, or the province above it in a
        cycle deployment): "everything in my deployment" is `path__startswith=org.root_path`."""
        return "/".join(self.path.split("/")[:2]) + "/"

    @property
    def district(self) -> Organisation | None:
        """The district (or city-direct unit) this organisation belongs to, itself included."""
        if self.kind in (OrgKind.DISTRICT, OrgKind.CITY_DIRECT):
            return self
        if self.parent is not None and self.parent.kind in (OrgKind.DISTRICT, OrgKind.CITY_DIRECT):
            return self.parent
        return None


class User(AbstractUser):
    """A login. Its roles say what it may do; a teacher's record is a separate `Teacher`."""

    name = models.CharField(_("姓名"), max_length=50, blank=True)
    # Set when someone else chose the password (issued login, admin): it must be changed at the next login.
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.name or self.username


class RoleKind(models.TextChoices):
    TEACHER = "teacher", _("教师")
    SCHOOL_ADMIN = "school_admin", _("学校管理员")
    PRINCIPAL = "principal", _("校长")
    DISTRICT_ADMIN = "district_admin", _("区管理员")
    CITY_ADMIN = "city_admin", _("市管理员")
    PROVINCE_ADMIN = "province_admin", _("省管理员")
    PROVIDER = "provider", _("培训机构")


# Where each role may be bound.
ROLE_ORG_KINDS: dict[str, tuple[str, ...]] = {
    RoleKind.TEACHER: (OrgKind.SCHOOL,),
    RoleKind.SCHOOL_ADMIN: (OrgKind.SCHOOL,),
    RoleKind.PRINCIPAL: (OrgKind.SCHOOL,),
    RoleKind.DISTRICT_ADMIN: (OrgKind.DISTRICT, OrgKind.CITY_DIRECT),
    RoleKind.CITY_ADMIN: (OrgKind.CITY,),
    RoleKind.PROVINCE_ADMIN: (OrgKind.PROVINCE,),
    RoleKind.PROVIDER: (OrgKind.PROVIDER,),
}
# Most powerful first: a user with several roles starts in the first one.
ROLE_PRIORITY: list[str] = [
    RoleKind.PROVINCE_ADMIN,
    RoleKind.CITY_ADMIN,
    RoleKind.DISTRICT_ADMIN,
    RoleKind.PRINCIPAL,
    RoleKind.SCHOOL_ADMIN,
    RoleKind.PROVIDER,
    RoleKind.TEACHER,
]


class Role(models.Model):
    """A user's role bound to an organisation; its scope is that organisation's subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("角色"), max_length=20, choices=RoleKind.choices)
    organisation = models.ForeignKey(Organisation, verbose_name=_("机构"), on_delete=models.PROTECT, related_name="roles")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "organisation"], name="uniq_role")]
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.organisation.name}"

    def clean(self) -> None:
        if self.organisation_id and self.organisation.kind not in ROLE_ORG_KINDS[self.kind]:
            raise ValidationError({"organisation": _("该角色不能绑定到此类型的机构。")})

    @property
    def priority(self) -> int:
        return ROLE_PRIORITY.index(self.kind)

    @property
    def is_school_level(self) -> bool:
        return self.kind in (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL)


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Stage(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("幼儿园")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    SPECIAL = "special", _("特殊教育")
    OTHER = "other", _("其他（教研、电教、少年宫等）")


class Subject(models.TextChoices):
    CHINESE = "chinese", _("语文")
    MATH = "math", _("数学")
    ENGLISH = "english", _("英语")
    PHYSICS = "physics", _("物理")
    CHEMISTRY = "chemistry", _("化学")
    BIOLOGY = "biology", _("生物")
    HISTORY = "history", _("历史")
    GEOGRAPHY = "geography", _("地理")
    POLITICS = "politics", _("道德与法治/思想政治")
    MUSIC = "music", _("音乐")
    ARTS = "arts", _("美术")
    PE = "pe", _("体育与健康")
    IT = "it", _("信息科技")
    SCIENCE = "science", _("科学")
    PSYCHOLOGY = "psychology", _("心理健康")
    PRESCHOOL = "preschool", _("学前教育")
    SPECIAL_ED = "special_ed", _("特殊教育")
    VOCATIONAL = "vocational", _("专业课（中职）")
    LAB_LIBRARY = "lab_library", _("实验/图书")
    OTHER = "other", _("其他")


class ProfessionalTitle(models.TextChoices):
    NONE = "none", _("未定级")
    GRADE3 = "grade3", _("三级教师")
    GRADE2 = "grade2", _("二级教师")
    GRADE1 = "grade1", _("一级教师")
    SENIOR = "senior", _("高级教师")
    PROFESSOR = "professor", _("正高级教师")


class PostType(models.TextChoices):
    TEACHER = "teacher", _("专任教师")
    LAB = "lab", _("实验人员")
    LIBRARY = "library", _("图书资料人员")
    RESEARCH = "research", _("教研员")
    ELEARNING = "elearning", _("电教人员")
    YOUTH_CENTRE = "youth_centre", _("少年宫/青少年活动中心专业人员")
    OTHER = "other", _("其他")


class TeacherStatus(models.TextChoices):
    ACTIVE = "active", _("在职")
    TRANSFERRED = "transferred", _("调出")
    RETIRED = "retired", _("退休")
    LEFT = "left", _("离职")


class Teacher(models.Model):
    """A teacher's record (个人基础信息). It stays with the teacher across schools.

    The login (`user`) is optional: rosters are imported in bulk long before every
    teacher is given a password.
    """

    # Fields a teacher must have filled before they may declare hours (SPEC §2).
    REQUIRED_FIELDS = (
        "name",
        "id_number",
        "gender",
        "school",
        "stage",
        "subject",
        "title",
        "post_type",
        "first_employment_date",
    )
    # What a teacher may change on their own record; school, status and ID stay with the school.
    SELF_EDITABLE_FIELDS = ("stage", "subject", "title", "post_type", "first_employment_date", "phone", "email")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="teacher"
    )
    name = models.CharField(_("姓名"), max_length=50)
    # Encrypted at rest (security.fields); exact lookups and uniqueness go through the keyed hash.
    id_number = EncryptedIdNumberField(_("身份证号"), max_length=18, validators=[validate_id_number])
    id_number_hash = KeyedHashField(source="id_number", unique=True, null=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    school = models.ForeignKey(
        Organisation,
        verbose_name=_("学校"),
        on_delete=models.PROTECT,
        related_name="teachers",
        limit_choices_to={"kind": OrgKind.SCHOOL},
    )
    stage = models.CharField(_("学段"), max_length=16, choices=Stage.choices, blank=True)
    subject = models.CharField(_("任教学科"), max_length=16, choices=Subject.choices, blank=True)
    title = models.CharField(_("职称"), max_length=16, choices=ProfessionalTitle.choices, blank=True)
    post_type = models.CharField(_("岗位类型"), max_length=16, choices=PostType.choices, blank=True)
    first_employment_date = models.DateField(_("参加工作日期"), null=True, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    cpd_number = models.CharField(_("继续教育证号"), max_length=20, unique=True, editable=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=TeacherStatus.choices, default=TeacherStatus.ACTIVE, db_index=True
    )
    status_changed_on = models.DateField(_("状态变更日期"), default=datetime.date.today)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["school_id", "name", "pk"]
        verbose_name = _("教师")
        verbose_name_plural = _("教师")
        indexes = [
            models.Index(fields=["school", "status"]),
            # The roster's sort: school, then name (keyset pagination walks it).
            models.Index(fields=["school", "name", "id"], name="teacher_roster_order"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.cpd_number}）"

    def validate_unique(self, exclude=None) -> None:
        """Uniqueness of the ID number is checked on its keyed hash (the ciphertext differs every time)."""
        self.id_number_hash = keyed_hash(self.id_number) if self.id_number else None
        exclude = set(exclude or ())
        if "id_number" not in exclude:
            exclude.discard("id_number_hash")
        try:
            super().validate_unique(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            if errors.pop("id_number_hash", None):
                errors["id_number"] = [self.unique_error_message(Teacher, ("id_number",))]
            raise ValidationError(errors) from None

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def missing_required_fields(self) -> list[str]:
        """Verbose names of the required fields still empty.

        Why: a teacher with gaps in the record may not declare hours (SPEC §2), and
        the record page must say exactly what is missing.
        """
        missing = []
        for field_name in self.REQUIRED_FIELDS:
            value = getattr(self, field_name + "_id", None) if field_name == "school" else getattr(self, field_name)
            if value in (None, ""):
                missing.append(str(getattr(self._meta.get_field(field_name), "verbose_name", field_name)))
        return missing

    @property
    def is_complete(self) -> bool:
        return not self.missing_required_fields()


class TeacherEventKind(models.TextChoices):
    ONBOARDED = "onboarded", _("入职登记")
    TRANSFERRED = "transferred", _("调动")
    TRANSFERRED_OUT = "transferred_out", _("调出本市")
    RETIRED = "retired", _("退休")
    LEFT = "left", _("离职")
    REACTIVATED = "reactivated", _("恢复在职")
    UPDATED = "updated", _("信息修改")


class TeacherEvent(models.Model):
    """Dated history of a teacher's status and school (append-only)."""

    teacher = models.ForeignKey(Teacher, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=TeacherEventKind.choices)
    effective_date = models.DateField(_("生效日期"))
    from_school = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("原学校")
    )
    to_school = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("新学校")
    )
    from_status = models.CharField(max_length=16, choices=TeacherStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=TeacherStatus.choices, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]


class RosterConfirmation(models.Model):
    """A school's statement that its roster is true on a date (at least twice a year)."""

    school = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roster_confirmations")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)
    active_teachers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-confirmed_at"]
        get_latest_by = "confirmed_at"


class CpdNumberCounter(models.Model):
    """The next CPD number per prefix; reserved in blocks under a row lock."""

    prefix = models.CharField(max_length=12, primary_key=True)
    next_value = models.PositiveBigIntegerField(default=1)


class RosterImportStatus(models.TextChoices):
    VALIDATING = "validating", _("校验中")
    VALIDATED = "validated", _("已校验")
    IMPORTING = "importing", _("导入中")
    FAILED = "failed", _("有错误")
    IMPORTED = "imported", _("已导入")


class RosterImport(models.Model):
    """An uploaded roster file: dry run first, then an atomic confirm."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roster_imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="roster_imports/")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RosterImportStatus.choices)
    total_rows = models.PositiveIntegerField(default=0)
    new_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    imported_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
