"""Every write to organisations, roles and teacher records goes through here.

Services take the acting role, check it may act on the object (out of scope ->
NotFound, role not allowed -> PermissionDenied), validate, write inside a
transaction and record the history event.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cpd.errors import NotFound, StateConflict
from security.models import AuditEventKind
from security.services import audit_record

from . import selectors
from .idnumber import gender_from_id_number, normalise_id_number
from .models import (
    CpdNumberCounter,
    Organisation,
    OrgKind,
    Role,
    RoleKind,
    RosterConfirmation,
    Teacher,
    TeacherEvent,
    TeacherEventKind,
    TeacherStatus,
    User,
)

# Fields a school admin may set on a record; school and status change only by transfer/retire/leave.
ADMIN_EDITABLE_FIELDS = (
    "name",
    "id_number",
    "gender",
    "stage",
    "subject",
    "title",
    "post_type",
    "first_employment_date",
    "phone",
    "email",
)

# Called with a school that moved to another district, inside the move's transaction: the verification app
# registers the statistics' follow-up (`verification.apps`), the hours app its declarations' district
# (`hours.apps`), since accounts sits below both.
SCHOOL_MOVED: list[Callable[..., None]] = []  # each called as follow(school=…)
# Called with a teacher whose school changed (a transfer), inside the transfer's transaction holding the
# teacher's row lock: the hours app registers its declarations' district (`hours.apps`).
TEACHER_MOVED: list[Callable[..., None]] = []  # each called as follow(teacher=…)


def school_moved(*, school: Organisation) -> None:
    """Run what follows a school's move to another district (its parent changed and saved). Call inside the
    move's transaction: the organisation service and the admin both do."""
    for follow in SCHOOL_MOVED:
        follow(school=school)


def _require_in_scope(role: Role | None, teacher: Teacher) -> None:
    if role is None or not selectors.teachers_visible_to(role).filter(pk=teacher.pk).exists():
        raise NotFound


def _require_roster_manager(role: Role | None) -> None:
    if not selectors.can_manage_roster(role):
        raise PermissionDenied(_("只有学校管理员可以维护教师名册。"))


# --- organisations -----------------------------------------------------------


def organisation_create(*, role: Role, name: str, code: str, kind: str, parent: Organisation | None) -> Organisation:
    if not selectors.can_manage_organisations(role):
        raise PermissionDenied(_("只有市管理员可以管理机构。"))
    if parent is not None and not selectors.organisations_visible_to(role).filter(pk=parent.pk).exists():
        raise NotFound
    org = Organisation(name=name, code=code, kind=kind, parent=parent)
    org.full_clean()
    with transaction.atomic():
        org.save()
    return org


def organisation_update(*, role: Role, organisation: Organisation, data: dict[str, Any]) -> Organisation:
    if not selectors.can_manage_organisations(role):
        raise PermissionDenied(_("只有市管理员可以管理机构。"))
    if not selectors.organisations_visible_to(role).filter(pk=organisation.pk).exists():
        raise NotFound
    old_parent_id = organisation.parent_id
    for field in ("name", "code", "is_active", "parent"):
        if field in data:
            setattr(organisation, field, data[field])
    if organisation.parent_id != old_parent_id and organisation.kind != OrgKind.SCHOOL:
        raise ValidationError({"parent": _("只有学校可以调整所属区。")})
    organisation.full_clean()
    with transaction.atomic():
        organisation.save()
        if organisation.parent_id != old_parent_id:
            # The statistics store each district's sums of its schools (verification.AreaYearStats) and each
            # declaration its teacher's school's district: a moved school's figures and declarations go with it.
            school_moved(school=organisation)
    return organisation


# --- CPD numbers -------------------------------------------------------------


def cpd_numbers_issue(*, count: int, year: int | None = None) -> list[str]:
    """Reserve `count` consecutive CPD numbers: city code + year + 6-digit sequence.

    Runs in its own atomic block holding the counter row lock, so two imports
    never hand out the same number; a rolled-back caller only leaves a gap.
    """
    if count <= 0:
        return []
    year = year or timezone.localdate().year
    prefix = f"{settings.CPD_CITY_CODE}{year}"
    with transaction.atomic():
        counter, _created = CpdNumberCounter.objects.get_or_create(prefix=prefix)
        counter = CpdNumberCounter.objects.select_for_update().get(pk=counter.pk)
        start = counter.next_value
        counter.next_value = start + count
        counter.save(update_fields=["next_value"])
    return [f"{prefix}{n:06d}" for n in range(start, start + count)]


# --- teachers ----------------------------------------------------------------


def teacher_create(*, role: Role, school: Organisation, data: dict[str, Any], actor: User) -> Teacher:
    """Onboard a teacher at `school` (must be in the role's scope)."""
    _require_roster_manager(role)
    if not selectors.schools_visible_to(role).filter(pk=school.pk).exists():
        raise NotFound
    fields = {k: v for k, v in data.items() if k in ADMIN_EDITABLE_FIELDS}
    if fields.get("id_number"):
        fields["id_number"] = normalise_id_number(fields["id_number"])
        if not fields.get("gender"):
            try:
                fields["gender"] = gender_from_id_number(fields["id_number"])
            except (ValueError, IndexError):
                pass
    teacher = Teacher(school=school, **fields)
    teacher.cpd_number = "pending"
    teacher.full_clean(exclude=["cpd_number"])
    with transaction.atomic():
        teacher.cpd_number = cpd_numbers_issue(count=1)[0]
        teacher.save()
        TeacherEvent.objects.create(
            teacher=teacher,
            kind=TeacherEventKind.ONBOARDED,
            effective_date=timezone.localdate(),
            to_school=school,
            to_status=TeacherStatus.ACTIVE,
            actor=actor,
        )
    return teacher


def teacher_update(*, role: Role, teacher: Teacher, data: dict[str, Any], actor: User) -> Teacher:
    """Change record fields. A teacher edits only their own, and never school, status or ID."""
    _require_in_scope(role, teacher)
    if role.kind == RoleKind.TEACHER:
        allowed: tuple[str, ...] = Teacher.SELF_EDITABLE_FIELDS
    else:
        _require_roster_manager(role)
        allowed = ADMIN_EDITABLE_FIELDS
    forbidden = sorted(set(data) - set(allowed))
    if forbidden:
        raise ValidationError({name: _("您不能修改此项。") for name in forbidden})
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        changed = []
        for field, value in data.items():
            if field == "id_number":
                value = normalise_id_number(value)
            if getattr(locked, field) != value:
                setattr(locked, field, value)
                changed.append(field)
        if not changed:
            return locked
        locked.full_clean()
        locked.save()
        TeacherEvent.objects.create(
            teacher=locked,
            kind=TeacherEventKind.UPDATED,
            effective_date=timezone.localdate(),
            note=", ".join(str(getattr(Teacher._meta.get_field(f), "verbose_name", f)) for f in changed)[:500],
            actor=actor,
        )
    return locked


def _change_status(
    *,
    role: Role,
    teacher: Teacher,
    actor: User,
    kind: str,
    to_status: str,
    effective_date: datetime.date | None,
    note: str,
    to_school: Organisation | None = None,
) -> Teacher:
    _require_in_scope(role, teacher)
    _require_roster_manager(role)
    effective_date = effective_date or timezone.localdate()
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        if locked.status != TeacherStatus.ACTIVE:
            raise StateConflict(
                _("只有在职教师可以办理此操作（当前状态：%(status)s）。") % {"status": locked.get_status_display()}
            )
        from_school = locked.school
        from_status = locked.status
        locked.status = to_status
        locked.status_changed_on = effective_date
        if to_school is not None:
            locked.school = to_school
        locked.save()
        if locked.school_id != from_school.pk:
            for follow in TEACHER_MOVED:
                follow(teacher=locked)
        TeacherEvent.objects.create(
            teacher=locked,
            kind=kind,
            effective_date=effective_date,
            from_school=from_school,
            to_school=to_school,
            from_status=from_status,
            to_status=to_status,
            note=note,
            actor=actor,
        )
        if to_school is not None:
            # The teacher's login follows them: their teacher role moves to the new school.
            if locked.user_id:
                Role.objects.filter(user_id=locked.user_id, kind=RoleKind.TEACHER).update(organisation=to_school)
        # A retired or departed teacher keeps their login: their record, history and hours stay
        # theirs to read; services that add work (declaring, enrolling, exchanging) require active status.
    return locked


def teacher_transfer(
    *,
    role: Role,
    teacher: Teacher,
    to_school: Organisation | None,
    actor: User,
    effective_date: datetime.date | None = None,
    note: str = "",
) -> Teacher:
    """Move a teacher to another school of the city, or out of the city when `to_school` is None.

    The record, its history and (later) its hours stay with the teacher; the receiving
    school sees the teacher at once and the sending school no longer does.
    """
    if to_school is None:
        if not note:
            raise ValidationError({"note": _("调出本市时请填写调入单位。")})
        return _change_status(
            role=role,
            teacher=teacher,
            actor=actor,
            kind=TeacherEventKind.TRANSFERRED_OUT,
            to_status=TeacherStatus.TRANSFERRED,
            effective_date=effective_date,
            note=note,
        )
    if not selectors.transfer_targets_for(role).filter(pk=to_school.pk).exists():
        raise ValidationError({"to_school": _("请选择本市另一所在用的学校。")})
    return _change_status(
        role=role,
        teacher=teacher,
        actor=actor,
        kind=TeacherEventKind.TRANSFERRED,
        to_status=TeacherStatus.ACTIVE,
        effective_date=effective_date,
        note=note,
        to_school=to_school,
    )


def teacher_retire(
    *, role: Role, teacher: Teacher, actor: User, effective_date: datetime.date | None = None, note: str = ""
) -> Teacher:
    return _change_status(
        role=role,
        teacher=teacher,
        actor=actor,
        kind=TeacherEventKind.RETIRED,
        to_status=TeacherStatus.RETIRED,
        effective_date=effective_date,
        note=note,
    )


def teacher_leave(
    *, role: Role, teacher: Teacher, actor: User, effective_date: datetime.date | None = None, note: str = ""
) -> Teacher:
    return _change_status(
        role=role,
        teacher=teacher,
        actor=actor,
        kind=TeacherEventKind.LEFT,
        to_status=TeacherStatus.LEFT,
        effective_date=effective_date,
        note=note,
    )


def teacher_issue_login(*, role: Role, teacher: Teacher, actor: User) -> tuple[User, str]:
    """Create or reset the teacher's login (username = CPD number); return the one-time password."""
    _require_in_scope(role, teacher)
    _require_roster_manager(role)
    if teacher.status != TeacherStatus.ACTIVE:
        raise StateConflict(_("只有在职教师可以开通账号。"))
    password = secrets.token_urlsafe(9)
    with transaction.atomic():
        locked = Teacher.objects.select_for_update().get(pk=teacher.pk)
        user = locked.user
        if user is None:
            user = User(username=locked.cpd_number, name=locked.name, email=locked.email)
        user.set_password(password)
        user.must_change_password = True
        user.is_active = True
        user.save()
        if locked.user_id != user.pk:
            locked.user = user
            locked.save(update_fields=["user"])
        Role.objects.get_or_create(user=user, kind=RoleKind.TEACHER, organisation=locked.school)
        audit_record(event=AuditEventKind.PASSWORD_ISSUED, actor=actor, role=role, obj=user, details={"teacher": locked.pk})
    return user, password


def roster_confirm(*, role: Role, actor: User) -> RosterConfirmation:
    """Record that the school's roster is true today (schools confirm at least twice a year)."""
    if not selectors.can_confirm_roster(role):
        raise PermissionDenied(_("只有学校管理员或校长可以确认名册。"))
    school = role.organisation
    active = Teacher.objects.filter(school=school, status=TeacherStatus.ACTIVE).count()
    return RosterConfirmation.objects.create(school=school, confirmed_by=actor, active_teachers=active)
