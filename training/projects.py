"""Training projects, enrolment with its three approvals, attendance registration (学时登记),
deadline extensions, registration complaints and online-course completions (SPEC §3, §8).

Services here are the one path for each change; pages, the API and imports call them.
Registered hours go straight into the ledger: the organiser is the authority.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, TeacherStatus, User
from accounts.selectors import scope_by_teacher
from cpd.errors import NotFound, StateConflict
from cpd.i18n import source_language
from cpd.models import PlatformClient
from hours import ledger
from hours.models import LedgerEntry, Source, Year
from hours.services import DeadlinePassed

from .models import (
    SCHOOL_BASED_KINDS,
    ApprovalState,
    ComplaintState,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    ExtensionState,
    OnlineCourse,
    ProjectKind,
    ProjectLevel,
    ProjectQuota,
    RegistrationComplaint,
    RegistrationExtension,
    TargetStage,
    TrainingProject,
)

ORGANISER_ROLES = (
    RoleKind.PROVINCE_ADMIN,
    RoleKind.CITY_ADMIN,
    RoleKind.DISTRICT_ADMIN,
    RoleKind.SCHOOL_ADMIN,
    RoleKind.PROVIDER,
)
LEVELS_FOR_ORG: dict[str, tuple[str, ...]] = {
    OrgKind.PROVINCE: (ProjectLevel.PROVINCE,),
    OrgKind.CITY: (ProjectLevel.CITY, ProjectLevel.PROVINCE),
    OrgKind.DISTRICT: (ProjectLevel.DISTRICT,),
    OrgKind.CITY_DIRECT: (ProjectLevel.DISTRICT,),
    OrgKind.SCHOOL: (ProjectLevel.SCHOOL,),
    OrgKind.PROVIDER: (ProjectLevel.CITY, ProjectLevel.DISTRICT),
}
PROJECT_FIELDS = (
    "title",
    "category",
    "hours",
    "start_date",
    "end_date",
    "level",
    "kind",
    "mode",
    "enrolment_start",
    "enrolment_end",
    "description",
    "target_stage",
    "for_key_teachers",
)
# Five-year cycle regime (SPEC §7): who designs a project for which teachers. Whoever designs it
# registers its hours; schools design school-based projects and set their hours themselves.
CYCLE_DESIGNER_FOR_STAGE: dict[str, Any] = {
    TargetStage.SENIOR: (OrgKind.PROVINCE,),
    TargetStage.JUNIOR: (OrgKind.CITY,),
    TargetStage.PRIMARY: (OrgKind.DISTRICT, OrgKind.CITY_DIRECT),
    TargetStage.KINDERGARTEN: (OrgKind.DISTRICT, OrgKind.CITY_DIRECT),
}
EXTENSION_REQUEST_DEADLINE = (12, 1)  # apply in writing by Dec 1 of the project's year


# --- scope ------------------------------------------------------------------------------------


def projects_visible_to(role: Role | None) -> QuerySet[TrainingProject]:
    """Published projects of the city for everyone; the organiser's own roles also see its drafts
    (a teacher of a school does not see the school's unpublished projects)."""
    if role is None:
        return TrainingProject.objects.none()
    city_path = role.organisation.root_path
    shown = Q(published_at__isnull=False)
    if role.kind in ORGANISER_ROLES:
        shown |= Q(organiser=role.organisation)
    if role.kind == RoleKind.CITY_ADMIN:
        # The city office must find the county key-teacher projects it approves before they can open (cycle regime).
        shown |= Q(organiser__path__startswith=role.organisation.path) & ~Q(approval=ApprovalState.NOT_NEEDED)
    return TrainingProject.objects.select_related("organiser").filter(Q(organiser__path__startswith=city_path) & shown)


def projects_managed_by(role: Role | None) -> QuerySet[TrainingProject]:
    if role is None or role.kind not in ORGANISER_ROLES:
        return TrainingProject.objects.none()
    return TrainingProject.objects.select_related("organiser").filter(organiser=role.organisation)


def _require_organiser(role: Role | None, project: TrainingProject) -> None:
    if role is None or not projects_managed_by(role).filter(pk=project.pk).exists():
        if projects_visible_to(role).filter(pk=project.pk).exists():
            raise PermissionDenied(_("只有主办单位可以办理此项目的登记。"))
        raise NotFound


def organiser_teachers(project: TrainingProject) -> QuerySet[Teacher]:
    """Teachers whose hours the organiser may register: its own subtree's; for a provider (which
    has no teachers of its own) those finally enrolled in the project, or, for a project without
    enrolment (无需报名), the active teachers of its city of the stage the project is for."""
    org = project.organiser
    if org.kind == OrgKind.PROVIDER:
        if project.has_enrolment:
            return Teacher.objects.filter(enrolments__project=project, enrolments__state=EnrolmentState.FINAL)
        city_path = "/".join(org.path.split("/")[:2]) + "/"
        eligible = Teacher.objects.filter(school__path__startswith=city_path, status=TeacherStatus.ACTIVE)
        if project.target_stage != TargetStage.ANY:
            eligible = eligible.filter(stage=project.target_stage)
        return eligible
    if org.kind == OrgKind.SCHOOL:
        return Teacher.objects.filter(school=org)
    return Teacher.objects.filter(school__path__startswith=org.path)


def enrolments_visible_to(role: Role | None) -> QuerySet[Enrolment]:
    if role is None:
        return Enrolment.objects.none()
    qs = Enrolment.objects.select_related("project", "teacher", "teacher__school", "district")
    if role.kind == RoleKind.PROVIDER:
        return qs.filter(project__organiser=role.organisation)
    # The one rule for teacher-owned objects, by the enrolment's own copy of its teacher's current school
    # (training 0004), not through the teacher: an area's waiting enrolments are one index range per school.
    return scope_by_teacher(qs, role, school="school")


# --- projects -----------------------------------------------------------------------------------


def project_save(
    *, role: Role, actor: User, data: dict[str, Any], quotas: dict[int, int] | None = None, project: TrainingProject | None = None
) -> TrainingProject:
    """Create or edit a project of the role's organisation, with its quota per district."""
    if role is None or role.kind not in ORGANISER_ROLES:
        raise PermissionDenied(_("只有培训主办单位可以发布培训项目。"))
    if project is not None:
        _require_organiser(role, project)
    with transaction.atomic():
        obj = (
            TrainingProject(organiser=role.organisation, created_by=actor)
            if project is None
            else (TrainingProject.objects.select_for_update().get(pk=project.pk))
        )
        for field in PROJECT_FIELDS:
            if field in data:
                setattr(obj, field, data[field])
        allowed_levels = LEVELS_FOR_ORG.get(role.organisation.kind, ())
        if obj.level not in allowed_levels:
            raise ValidationError(
                {
                    "level": _("本单位只能发布以下级别的项目：%(levels)s。")
                    % {"levels": "、".join(str(ProjectLevel(v).label) for v in allowed_levels)}
                }
            )
        if settings.CPD_REGIME == "cycle":
            _check_cycle_design(obj, role.organisation)
        obj.full_clean(exclude=["organiser", "created_by"])
        obj.save()
        if quotas is not None:
            districts = {
                o.pk: o
                for o in Organisation.objects.filter(pk__in=list(quotas), kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT])
            }
            unknown = [pk for pk in quotas if pk not in districts]
            if unknown:
                raise ValidationError({"quotas": _("名额只能分配给区或市直属单位。")})
            for district_id, quota in quotas.items():
                if quota is None or int(quota) < 0:
                    raise ValidationError({"quotas": _("名额不能为负数。")})
                taken = Enrolment.objects.filter(project=obj, district_id=district_id, state__in=[EnrolmentState.FINAL]).count()
                if int(quota) < taken:
                    raise ValidationError({"quotas": _("名额不能少于已确认的人数（%(n)s）。") % {"n": taken}})
                ProjectQuota.objects.update_or_create(project=obj, district_id=district_id, defaults={"quota": int(quota)})
    return obj


def _check_cycle_design(project: TrainingProject, organiser: Organisation) -> None:
    """Design permissions per level under the cycle regime; a county's key-teacher project waits for the city."""
    if project.kind in SCHOOL_BASED_KINDS:  # their hours count as school-based: schools design them and set their hours
        if organiser.kind != OrgKind.SCHOOL:
            raise ValidationError({"kind": _("校本研修项目由学校设计。")})
    elif organiser.kind == OrgKind.SCHOOL:
        raise ValidationError({"kind": _("学校只能设计校本研修项目。")})
    else:
        allowed = CYCLE_DESIGNER_FOR_STAGE.get(project.target_stage)
        if allowed is None and organiser.kind != OrgKind.PROVIDER:
            raise ValidationError({"target_stage": _("请选择项目面向的学段。")})
        # Zhengzhou: a county also designs its own senior/junior key-teacher projects, once the city approves them.
        county_key = project.for_key_teachers and organiser.kind in (OrgKind.DISTRICT, OrgKind.CITY_DIRECT)
        if allowed is not None and organiser.kind not in allowed and not county_key:
            raise ValidationError(
                {
                    "target_stage": _("面向%(stage)s教师的项目由%(who)s设计。")
                    % {"stage": TargetStage(project.target_stage).label, "who": "、".join(str(OrgKind(k).label) for k in allowed)}
                }
            )
    needs_city = project.for_key_teachers and organiser.kind in (OrgKind.DISTRICT, OrgKind.CITY_DIRECT)
    if needs_city and project.approval in (ApprovalState.NOT_NEEDED, ApprovalState.REFUSED):
        project.approval = ApprovalState.PENDING
    elif needs_city and project.approval == ApprovalState.APPROVED and project.published_at is None and project.pk is not None:
        # An approved but unpublished project that the county edits goes back to the city: what the
        # city approved is not what would open.
        project.approval = ApprovalState.PENDING
    elif not needs_city:
        project.approval = ApprovalState.NOT_NEEDED


def project_approve(*, role: Role, actor: User, project: TrainingProject, approve: bool) -> TrainingProject:
    """The city office approves (or refuses) a county's key-teacher project before it opens."""
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("由市教育局审批县区骨干教师项目。"))
    if not project.organiser.path.startswith(role.organisation.path):
        raise NotFound
    with transaction.atomic():
        obj = TrainingProject.objects.select_for_update().get(pk=project.pk)
        if obj.approval != ApprovalState.PENDING:
            raise StateConflict(_("该项目不在待审批状态。"))
        obj.approval = ApprovalState.APPROVED if approve else ApprovalState.REFUSED
        obj.save(update_fields=["approval"])
    return obj


def project_publish(*, role: Role, project: TrainingProject) -> TrainingProject:
    _require_organiser(role, project)
    with transaction.atomic():
        obj = TrainingProject.objects.select_for_update().get(pk=project.pk)
        if obj.published_at is not None:
            raise StateConflict(_("项目已发布。"))
        if obj.approval in (ApprovalState.PENDING, ApprovalState.REFUSED):
            raise StateConflict(
                _("县区骨干教师项目须经市教育局批准后才能开放（当前：%(state)s）。") % {"state": obj.get_approval_display()}
            )
        obj.published_at = timezone.now()
        obj.save(update_fields=["published_at"])
    return obj


# --- enrolment ------------------------------------------------------------------------------------


def _quota_check(project: TrainingProject, district: Organisation, states: tuple) -> None:
    """Refuse when the district's quota is full at this level. No quota rows at all = unlimited."""
    quotas = {q.district_id: q.quota for q in project.quotas.all()}
    if not quotas:
        return
    quota = quotas.get(district.pk)
    if quota is None:
        raise StateConflict(_("该项目没有给%(district)s分配名额。") % {"district": district.name})
    taken = Enrolment.objects.filter(project=project, district=district, state__in=states).count()
    if taken >= quota:
        raise StateConflict(_("%(district)s的名额已满（共 %(quota)s 个）。") % {"district": district.name, "quota": quota})


def enrolment_apply(*, role: Role, actor: User, project: TrainingProject) -> Enrolment:
    """A teacher enrols inside the enrolment window, if their district still has room."""
    if role is None or role.kind != RoleKind.TEACHER:
        raise PermissionDenied(_("只有教师可以报名。"))
    if not projects_visible_to(role).filter(pk=project.pk, published_at__isnull=False).exists():
        raise NotFound
    teacher = Teacher.objects.select_related("school", "school__parent").get(user_id=role.user_id)
    today = timezone.localdate()
    if not project.has_enrolment:
        raise StateConflict(_("该项目不需要报名。"))
    if project.enrolment_start is None or project.enrolment_end is None:
        raise StateConflict(_("该项目不需要报名。"))
    if today < project.enrolment_start:
        raise StateConflict(_("报名尚未开始（%(date)s 开始）。") % {"date": f"{project.enrolment_start:%Y-%m-%d}"})
    if today > project.enrolment_end:
        raise StateConflict(_("报名已截止（截止日期 %(date)s）。") % {"date": f"{project.enrolment_end:%Y-%m-%d}"})
    if teacher.status != TeacherStatus.ACTIVE:
        raise StateConflict(_("只有在职教师可以报名。"))
    district = teacher.school.district
    assert district is not None  # every school sits in a district or the city-direct unit
    with transaction.atomic():
        TrainingProject.objects.select_for_update().get(pk=project.pk)  # serialise quota checks per project
        existing = Enrolment.objects.filter(project=project, teacher=teacher).first()
        if (
            existing is not None
            and existing.state in EnrolmentState.values
            and existing.state not in (EnrolmentState.REJECTED, EnrolmentState.WITHDRAWN)
        ):
            raise StateConflict(_("您已报名该项目。"))
        _quota_check(
            project,
            district,
            (EnrolmentState.APPLIED, EnrolmentState.PRINCIPAL_APPROVED, EnrolmentState.DISTRICT_APPROVED, EnrolmentState.FINAL),
        )
        if existing is None:
            enrolment = Enrolment.objects.create(project=project, teacher=teacher, district=district, school=teacher.school)
            EnrolmentEvent.objects.create(
                enrolment=enrolment,
                action="apply",
                from_state=EnrolmentState.APPLIED,
                to_state=EnrolmentState.APPLIED,
                actor=actor,
            )
        else:
            enrolment = Enrolment.objects.select_for_update().get(pk=existing.pk)
            _enrolment_do(enrolment, "reapply", actor, "")
    return enrolment


# action -> (role kinds, states counted against the quota at the target level)
ENROLMENT_ACTIONS = {
    "principal_approve": (
        {RoleKind.PRINCIPAL},
        (EnrolmentState.PRINCIPAL_APPROVED, EnrolmentState.DISTRICT_APPROVED, EnrolmentState.FINAL),
    ),
    "district_approve": ({RoleKind.DISTRICT_ADMIN}, (EnrolmentState.DISTRICT_APPROVED, EnrolmentState.FINAL)),
    "finalise": ({RoleKind.CITY_ADMIN}, (EnrolmentState.FINAL,)),
    "reject": ({RoleKind.PRINCIPAL, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN}, None),
    "withdraw": ({RoleKind.TEACHER}, None),
}
REJECT_STATE_FOR: dict[str, str] = {
    RoleKind.PRINCIPAL: EnrolmentState.APPLIED,
    RoleKind.DISTRICT_ADMIN: EnrolmentState.PRINCIPAL_APPROVED,
    RoleKind.CITY_ADMIN: EnrolmentState.DISTRICT_APPROVED,
}


def enrolment_transition(*, enrolment_id: int, action: str, role: Role, actor: User, reason: str = "") -> Enrolment:
    """Principal, district and city approvals (each checks the quota at its level), rejection, withdrawal."""
    if action not in ENROLMENT_ACTIONS:
        raise ValidationError({"action": _("未知的操作。")})
    if not enrolments_visible_to(role).filter(pk=enrolment_id).exists():
        raise NotFound
    roles, quota_states = ENROLMENT_ACTIONS[action]
    if role.kind not in roles:
        raise PermissionDenied(_("您当前的角色不能办理此操作。"))
    if action == "reject" and not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不通过的原因。")})
    with transaction.atomic():
        current = Enrolment.objects.select_related("project", "district").get(pk=enrolment_id)
        TrainingProject.objects.select_for_update().get(pk=current.project_id)
        enrolment = Enrolment.objects.select_for_update().select_related("project", "district").get(pk=enrolment_id)
        if action == "reject" and enrolment.state != REJECT_STATE_FOR[role.kind]:
            raise StateConflict(_("该报名当前状态为“%(state)s”，不能办理此操作。") % {"state": enrolment.get_state_display()})
        if quota_states is not None and enrolment.state in EnrolmentState.values:
            _quota_check(enrolment.project, enrolment.district, quota_states)
        _enrolment_do(enrolment, action, actor, reason)
    return enrolment


def _enrolment_do(enrolment: Enrolment, action: str, actor: User, reason: str) -> None:
    from_state = enrolment.state
    try:
        getattr(enrolment, action)()
    except TransitionNotAllowed:
        raise StateConflict(_("该报名当前状态为“%(state)s”，不能办理此操作。") % {"state": EnrolmentState(from_state).label})
    enrolment.reason = reason[:500]
    try:
        # Only what the transition changes: never the school, which a transfer's trigger may have moved since.
        enrolment.save(update_fields=["state", "reason", "updated_at"])
    except ConcurrentTransition:
        raise StateConflict(_("该报名刚被其他人处理，请刷新后查看。"))
    EnrolmentEvent.objects.create(
        enrolment=enrolment, action=action, from_state=from_state, to_state=enrolment.state, actor=actor, reason=reason
    )


def quota_usage(project: TrainingProject) -> list[dict[str, Any]]:
    """Per district: quota, live enrolments and final ones (one query for all districts)."""
    return quota_usage_many([project])[project.pk]


def quota_usage_many(projects: Iterable[TrainingProject]) -> dict[int, list[dict[str, Any]]]:
    """{project id: quota_usage(project)} for a page of projects: two queries whatever their number."""
    ids = [p.pk for p in projects]
    if not ids:
        return {}
    live_states = [
        EnrolmentState.APPLIED,
        EnrolmentState.PRINCIPAL_APPROVED,
        EnrolmentState.DISTRICT_APPROVED,
        EnrolmentState.FINAL,
    ]
    counts = {
        (row["project_id"], row["district_id"]): row
        for row in Enrolment.objects.filter(project_id__in=ids)
        .values("project_id", "district_id")
        .annotate(live=Count("pk", filter=Q(state__in=live_states)), final=Count("pk", filter=Q(state=EnrolmentState.FINAL)))
        .order_by()
    }
    out: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for q in ProjectQuota.objects.filter(project_id__in=ids).select_related("district").order_by("project_id", "district__code"):
        row = counts.get((q.project_id, q.district_id), {})
        out[q.project_id].append(
            {"district": q.district, "quota": q.quota, "live": row.get("live", 0), "final": row.get("final", 0)}
        )
    return out


# --- registration (学时登记) ------------------------------------------------------------------------


def check_registration_deadline(project: TrainingProject, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    deadline = project.registration_deadline()
    if today > deadline:
        raise DeadlinePassed(
            _("已超过该项目的学时登记截止日期（%(date)s）。如需延期，须在12月1日前向市里申请。")
            % {"date": f"{deadline:%Y-%m-%d}"}
        )
    if Year.of(project.year).is_locked:
        raise DeadlinePassed(_("%(year)s年度已锁定。") % {"year": project.year})


def _live_registrations(project: TrainingProject) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(project=project, source=Source.REGISTRATION, revoked_by__isnull=True)


def registered_teacher_ids(project: TrainingProject, among: Iterable[int] | None = None) -> set[int]:
    """Teachers with a live (not revoked) registration for the project (of `among` only, when given: the
    rows a page shows, not a city-wide project's every registration)."""
    qs = _live_registrations(project)
    if among is not None:
        qs = qs.filter(teacher_id__in=list(among))
    return set(qs.values_list("teacher_id", flat=True))


def registration_count(project: TrainingProject) -> int:
    """How many teachers have a live registration for the project (one live entry per teacher)."""
    return _live_registrations(project).count()


def registration_register(
    *, role: Role, actor: User, project: TrainingProject, rows: list[tuple[int, Decimal]], note: str = ""
) -> dict[str, int]:
    """Register attendees' hours: one ledger entry each, linked to the project.

    `rows` are (teacher id, hours). Teachers already registered are skipped (re-submitting
    adds nothing). All-or-nothing: any teacher outside the organiser's scope or hours above
    the project's refuse the whole batch. A fixed number of queries plus batched inserts.
    """
    _require_organiser(role, project)
    errors = []
    for teacher_id, hours in rows:
        if hours is None or hours <= 0 or hours > project.hours:
            errors.append(_("教师 #%(id)s 的学时须大于0且不超过项目学时 %(max)s。") % {"id": teacher_id, "max": project.hours})
    if errors:
        raise ValidationError({"hours": errors})
    counts = Counter(tid for tid, _h in rows)
    twice = sorted(tid for tid, n in counts.items() if n > 1)
    if twice:
        raise ValidationError({"teachers": _("以下教师在本批中出现了不止一次：%(ids)s") % {"ids": ", ".join(map(str, twice))}})
    with transaction.atomic():
        locked = TrainingProject.objects.select_for_update().get(pk=project.pk)
        check_registration_deadline(locked)
        ids = {tid for tid, _h in rows}
        in_scope = set(organiser_teachers(locked).filter(pk__in=ids).values_list("pk", flat=True))
        outside = sorted(ids - in_scope)
        if outside:
            raise ValidationError(
                {"teachers": _("以下教师不在本单位的登记范围内：%(ids)s") % {"ids": ", ".join(map(str, outside))}}
            )
        done = registered_teacher_ids(locked)
        new_rows = [(tid, h) for tid, h in rows if tid not in done]
        bulk_register(project=locked, rows=new_rows, actor=actor, note=note)
    return {"registered": len(new_rows), "unchanged": len(rows) - len(new_rows)}


def bulk_register(*, project: TrainingProject, rows: list[tuple[int, Decimal]], actor: User | None, note: str = "") -> int:
    """Insert registration entries in batches. Call inside a transaction holding the project's row lock,
    after the checks (scope, deadline, duplicates) are done."""
    now = timezone.now()
    school_based, new_teacher = project.kind in SCHOOL_BASED_KINDS, project.kind == ProjectKind.NEW_TEACHER
    entries = [
        dict(
            teacher_id=tid,
            year=project.year,
            category=project.category,
            hours=h,
            source=Source.REGISTRATION,
            title=project.title,
            organiser=project.organiser.name,
            start_date=project.start_date,
            end_date=project.end_date,
            project_id=project.pk,
            school_based=school_based,
            new_teacher=new_teacher,
            actor_id=actor.pk if actor else None,
            reason=note,
            created_at=now,
        )
        for tid, h in rows
    ]
    return ledger.entries_create_many(entries, batch_size=5000)


def registration_revoke(
    *, role: Role, actor: User, entry: LedgerEntry, reason: str, upheld_complaint: bool = False
) -> LedgerEntry:
    """The organiser withdraws a wrong registration (a revoking entry), e.g. after a complaint.

    A complaint upheld after the registration deadline may still correct the entry until the year
    is locked (the ledger refuses a locked year): the teacher must not lose the remedy to the calendar.
    """
    if entry.project is None or entry.source != Source.REGISTRATION:
        raise NotFound
    _require_organiser(role, entry.project)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写原因。")})
    with transaction.atomic():
        project = TrainingProject.objects.select_for_update().get(pk=entry.project.pk)
        if not upheld_complaint:
            check_registration_deadline(project)
        return ledger.entry_revoke(entry=entry, actor=actor, reason=reason, project=project, already=_("该登记已撤销。"))


# --- extensions ----------------------------------------------------------------------------------------


def extension_request(
    *, role: Role, actor: User, project: TrainingProject, requested_until: datetime.date, reason: str
) -> RegistrationExtension:
    """An organiser applies in writing, by Dec 1 of the project's year, to register later."""
    _require_organiser(role, project)
    today = timezone.localdate()
    cutoff = datetime.date(project.year, *EXTENSION_REQUEST_DEADLINE)
    if today > cutoff:
        raise DeadlinePassed(_("延期申请须在 %(date)s 前提出。") % {"date": f"{cutoff:%Y-%m-%d}"})
    if requested_until <= project.registration_deadline():
        raise ValidationError(
            {
                "requested_until": _("申请的日期须晚于当前截止日期 %(date)s。")
                % {"date": f"{project.registration_deadline():%Y-%m-%d}"}
            }
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写申请理由。")})
    if project.extensions.filter(state=ExtensionState.PENDING).exists():
        raise StateConflict(_("已有待审批的延期申请。"))
    return RegistrationExtension.objects.create(
        project=project, requested_by=actor, requested_until=requested_until, reason=reason.strip()
    )


def extension_decide(
    *,
    role: Role,
    actor: User,
    extension: RegistrationExtension,
    grant: bool,
    granted_until: datetime.date | None = None,
    note: str = "",
) -> RegistrationExtension:
    """The city grants (with a new date) or refuses an extension."""
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以审批延期申请。"))
    with transaction.atomic():
        ext = RegistrationExtension.objects.select_for_update().select_related("project").get(pk=extension.pk)
        if ext.state != ExtensionState.PENDING:
            raise StateConflict(_("该申请已审批。"))
        if grant:
            until = granted_until or ext.requested_until
            if until <= ext.project.default_registration_deadline():
                raise ValidationError({"granted_until": _("批准的日期须晚于原截止日期。")})
            ext.state = ExtensionState.GRANTED
            ext.granted_until = until
        else:
            if not note.strip():
                raise ValidationError({"decision_note": _("不批准时请填写意见。")})
            ext.state = ExtensionState.REFUSED
        ext.decision_note = note.strip()
        ext.decided_by = actor
        ext.decided_at = timezone.now()
        ext.save()
    return ext


# --- complaints about a registration ------------------------------------------------------------------------


def complaint_file(*, role: Role, actor: User, entry: LedgerEntry, message: str) -> RegistrationComplaint:
    if role is None or role.kind != RoleKind.TEACHER:
        raise PermissionDenied(_("只有教师本人可以提出异议。"))
    if entry.teacher.user_id != role.user_id:
        raise NotFound
    if entry.source != Source.REGISTRATION or entry.project_id is None:
        raise ValidationError({"entry": _("只能对培训学时登记提出异议。")})
    if not (message or "").strip():
        raise ValidationError({"message": _("请说明哪里有误。")})
    if entry.complaints.filter(state=ComplaintState.OPEN).exists():
        raise StateConflict(_("您对这条登记的异议正在处理中。"))
    return RegistrationComplaint.objects.create(entry=entry, teacher=entry.teacher, message=message.strip())


def complaints_for_organiser(role: Role | None) -> QuerySet[RegistrationComplaint]:
    return RegistrationComplaint.objects.select_related("entry", "entry__project", "teacher").filter(
        entry__project__in=projects_managed_by(role)
    )


def complaint_resolve(
    *, role: Role, actor: User, complaint: RegistrationComplaint, accept: bool, response: str
) -> RegistrationComplaint:
    """The organiser answers: accepted (the registration is revoked; register the right hours again) or dismissed."""
    if not complaints_for_organiser(role).filter(pk=complaint.pk).exists():
        raise NotFound
    if not (response or "").strip():
        raise ValidationError({"response": _("请填写处理意见。")})
    with transaction.atomic():
        c = RegistrationComplaint.objects.select_for_update().select_related("entry").get(pk=complaint.pk)
        if c.state != ComplaintState.OPEN:
            raise StateConflict(_("该异议已处理。"))
        if accept and not LedgerEntry.objects.filter(revokes=c.entry).exists():
            registration_revoke(
                role=role,
                actor=actor,
                entry=c.entry,
                reason=_("教师异议：%(msg)s") % {"msg": c.message[:200]},
                upheld_complaint=True,
            )
        c.state = "resolved" if accept else "dismissed"
        c.response = response.strip()
        c.responded_by = actor
        c.resolved_at = timezone.now()
        c.save()
    from hours.models import Notification

    if c.teacher.user_id:
        with source_language():
            message = _("您对“%(title)s”学时登记的异议已处理：%(response)s") % {"title": c.entry.title, "response": c.response}
        Notification.objects.create(
            user_id=c.teacher.user_id,
            message=message,
            link="/hours/",
        )
    return c


# --- platform clients and online-course completions ----------------------------------------------------------


def completion_record(
    *, client: PlatformClient, completion_id: str, course_code: str, teacher_key: str, completed_on: datetime.date
) -> tuple[LedgerEntry, bool]:
    """Record an online-course completion as a ledger entry, once per platform completion id.

    Returns (entry, created). Posting the same completion again returns the first entry.
    """
    source_ref = f"online:{client.pk}:{completion_id}"
    existing = LedgerEntry.objects.filter(source_ref=source_ref).first()
    if existing is not None:
        return existing, False
    course = OnlineCourse.objects.filter(code=course_code, is_active=True).first()
    if course is None:
        raise ValidationError({"course_code": _("未知的课程编号。")})
    key = (teacher_key or "").strip().upper()
    teacher = Teacher.objects.filter(Q(id_number=key) | Q(cpd_number=key)).first()
    if teacher is None:
        raise ValidationError({"teacher": _("未找到该教师（身份证号或继续教育证号）。")})
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("完成日期不能晚于今天。")})
    try:
        with transaction.atomic():
            entry = ledger.entry_create(
                teacher=teacher,
                year=completed_on.year,
                category=course.category,
                hours=course.hours,
                source=Source.ONLINE_COURSE,
                title=course.title,
                organiser=course.provider or client.name,
                start_date=completed_on,
                end_date=completed_on,
                source_ref=source_ref,
            )
    except ledger.DuplicateSource as exc:  # recorded meanwhile by another request
        return exc.existing or LedgerEntry.objects.get(source_ref=source_ref), False
    except IntegrityError:
        return LedgerEntry.objects.get(source_ref=source_ref), False
    return entry, True
