"""Every write to the hours bank and to declarations goes through here.

`declaration_transition` is the one path for a state change: it checks the actor's
scope (out of scope -> NotFound), the role's right to the action (PermissionDenied),
the deadline (DeadlinePassed) and the state (StateConflict), locks the row, writes
the event, notifies the teacher and, on final approval, writes the ledger entry
exactly once (its `source_ref` is unique).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import secrets
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.models import Organisation, Role, RoleKind, Teacher, TeacherStatus, User
from cpd.errors import NotFound, StateConflict
from cpd.i18n import source_language

from . import ledger, selectors
from .evidence_scan import active_content, active_content_message
from .models import (
    OPEN_STATES,
    Category,
    Declaration,
    DeclarationEvent,
    DeclarationState,
    Evidence,
    EvidenceKind,
    LedgerEntry,
    Notification,
    Source,
    StagedUpload,
    Year,
)

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_FILES = 5
# Files kept for a form that has to be fixed first live this long (`staged_uploads_prune`, daily)...
STAGED_UPLOAD_MAX_AGE = datetime.timedelta(hours=24)
# ...and one person keeps at most this many (several tabs, several tries), the oldest going first.
STAGED_UPLOADS_PER_OWNER = 20
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
COMMON_RETURN_REASONS = [
    gettext_lazy("证明材料不清晰，请重新上传原件扫描件"),
    gettext_lazy("缺少学校盖章的中文翻译件"),
    gettext_lazy("缺少学校盖章的学时证明"),
    gettext_lazy("学时与证书不一致"),
    gettext_lazy("培训日期与证书不一致"),
    gettext_lazy("类别或活动类型选择有误"),
    gettext_lazy("与已登记学时重复"),
]
DECLARATION_FIELDS = (
    "year",
    "category",
    "activity_type",
    "title",
    "organiser",
    "start_date",
    "end_date",
    "hours",
    "certificate_number",
    "certificate_in_chinese",
    "certificate_states_hours",
)


# Declared activities that count as school-based (校本研修) under the five-year cycle regime (SPEC §7).
SCHOOL_BASED_ACTIVITIES = ("teaching_research", "research")


class DeadlinePassed(StateConflict):
    """The year's deadline for this action is over."""


# --- the ledger --------------------------------------------------------------------


def ledger_correction(
    *,
    role: Role,
    actor: User,
    reason: str,
    revokes: LedgerEntry | None = None,
    teacher: Teacher | None = None,
    year: int | None = None,
    category: str | None = None,
    hours: Decimal | None = None,
    title: str = "",
) -> LedgerEntry:
    """A city admin's correction, allowed even in a locked year, always with a reason.

    Either revokes an entry (a new entry with the opposite hours pointing at it) or adds
    hours that were missed. Entries themselves are never edited.
    """
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以更正学时记录。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("更正必须填写原因。")})
    with transaction.atomic():
        if revokes is not None:
            if not selectors.ledger_visible_to(role).filter(pk=revokes.pk).exists():
                raise NotFound
            return ledger.entry_revoke(entry=revokes, actor=actor, reason=reason, correction=True)
        if teacher is None or not year or not category or not hours:
            raise ValidationError({"hours": _("请填写教师、年度、类别和学时。")})
        if not Teacher.objects.filter(pk=teacher.pk, school__path__startswith=role.organisation.path).exists():
            raise NotFound
        with source_language():  # a default title is stored in the platform's language, shown translated
            default_title = str(_("学时更正"))
        return ledger.entry_create(
            teacher=teacher,
            year=year,
            category=category,
            hours=hours,
            source=Source.CORRECTION,
            title=title or default_title,
            actor=actor,
            reason=reason,
            correction=True,
        )


# --- evidence ----------------------------------------------------------------------


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check_evidence_file(uploaded: Any) -> tuple[bytes, str]:
    """Read and check one upload: at most 10 MB, a PDF, JPEG or PNG by its content whatever its name,
    and nothing active in it (no script, launch action, attachment or HTML: `evidence_scan`)."""
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_EVIDENCE_BYTES:
        raise ValidationError({"evidence": _("文件“%(name)s”超过10 MB。") % {"name": uploaded.name}})
    content = uploaded.read(MAX_EVIDENCE_BYTES + 1)
    if len(content) > MAX_EVIDENCE_BYTES:
        raise ValidationError({"evidence": _("文件“%(name)s”超过10 MB。") % {"name": uploaded.name}})
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise ValidationError(
            {"evidence": _("文件“%(name)s”不是PDF、JPEG或PNG（按文件内容识别）。") % {"name": getattr(uploaded, "name", "")}}
        )
    active = active_content(content, content_type)
    if active:
        raise ValidationError({"evidence": active_content_message(getattr(uploaded, "name", ""), active)})
    return content, content_type


def _store_evidence(
    declaration: Declaration, kind: str, name: str, content: bytes, content_type: str, sha256: str | None = None
) -> Evidence:
    from django.core.files.base import ContentFile

    evidence = Evidence(
        declaration=declaration,
        kind=kind,
        token=secrets.token_hex(16),
        content_type=content_type,
        size=len(content),
        sha256=sha256 or hashlib.sha256(content).hexdigest(),
        original_name=(name or "")[:255],
    )
    evidence.file.save("upload", ContentFile(content), save=False)
    evidence.save()
    return evidence


# --- files kept while a form is fixed --------------------------------------------------


def staged_upload_create(*, owner: User, kind: str, uploaded: Any) -> StagedUpload:
    """Keep one chosen file for its owner while the form it came with has to be fixed.

    The file passes the same checks as evidence (`check_evidence_file`) or is refused with them
    (ValidationError): only a file that could become evidence as it is is kept.
    """
    from django.core.files.base import ContentFile

    if kind not in EvidenceKind.values:
        raise ValidationError({"evidence": _("未知的材料类型。")})
    content, content_type = check_evidence_file(uploaded)
    staged = StagedUpload(
        owner=owner,
        kind=kind,
        token=secrets.token_hex(16),
        original_name=(getattr(uploaded, "name", "") or "")[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    staged.file.save("upload", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            staged.save()
            # Bounded per person: someone who keeps failing a form does not fill the disk.
            keep = StagedUpload.objects.filter(owner=owner).order_by("-created_at", "-pk")[:STAGED_UPLOADS_PER_OWNER]
            _staged_delete(StagedUpload.objects.filter(owner=owner).exclude(pk__in=list(keep.values_list("pk", flat=True))))
    except BaseException:
        staged.file.delete(save=False)
        raise
    return staged


def staged_uploads_discard(*, owner: User, ids: list[int]) -> int:
    """The owner drops kept files (移除 ticked on the form). Someone else's ids are ignored."""
    with transaction.atomic():
        return _staged_delete(StagedUpload.objects.filter(owner=owner, pk__in=ids))


def staged_uploads_prune(*, now: datetime.datetime | None = None) -> int:
    """The daily job: delete kept files older than `STAGED_UPLOAD_MAX_AGE` with their rows.

    Idempotent: a second run for the same moment finds nothing older left.
    """
    cutoff = (now or timezone.now()) - STAGED_UPLOAD_MAX_AGE
    deleted = 0
    while True:
        with transaction.atomic():
            chunk = list(StagedUpload.objects.filter(created_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:1000])
            if not chunk:
                return deleted
            deleted += _staged_delete(StagedUpload.objects.filter(pk__in=chunk))


def _staged_delete(qs: Any) -> int:
    """Delete the rows now and their files once that is committed (a rolled-back delete keeps both).
    Call inside a transaction."""
    rows = list(qs.select_for_update().values_list("pk", "file"))
    if not rows:
        return 0
    StagedUpload.objects.filter(pk__in=[pk for pk, _name in rows]).delete()
    storage = StagedUpload._meta.get_field("file").storage
    for _pk, name in rows:
        if name:
            transaction.on_commit(partial(storage.delete, name))
    return len(rows)


# --- declarations: create and edit ---------------------------------------------------


def _teacher_for(role: Role) -> Teacher:
    if role is None or role.kind != RoleKind.TEACHER:
        raise PermissionDenied(_("只有教师本人可以申报学时。"))
    teacher = Teacher.objects.filter(user_id=role.user_id).select_related("school").first()
    if teacher is None:
        raise NotFound
    return teacher


def _current_area_locked(teacher_id: int) -> tuple[int, int]:
    """(school, district) of the teacher's current school, for a declaration being created. Call inside the
    transaction that inserts it: the teacher's row is locked (a transfer, which holds it while it moves the
    teacher's declarations, waits for this insert, or this read waits for the transfer and sees the new
    school) and the school's row is shared (a move of the school to another district waits, or is waited
    for, the same way), so the new row never keeps a school or district its teacher just left."""
    school_id = Teacher.objects.select_for_update(no_key=True).values_list("school_id", flat=True).get(pk=teacher_id)
    share = " FOR SHARE" if connection.features.has_select_for_update else ""
    table = connection.ops.quote_name(Organisation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT parent_id FROM {table} WHERE id = %s{share}", [school_id])
        return school_id, int(cursor.fetchone()[0])


def declarations_follow_teacher(*, teacher: Teacher) -> None:
    """A transferred teacher's declarations move to their new school and its district (the queues are the
    teacher's current school's). Registered with `accounts.services.TEACHER_MOVED` by `hours.apps`; runs
    in the transfer's transaction, which holds the teacher's row lock. `updated_at` stays: nothing of the
    declaration itself changed."""
    district_id = Organisation.objects.values_list("parent_id", flat=True).get(pk=teacher.school_id)
    Declaration.objects.filter(teacher_id=teacher.pk).exclude(school_id=teacher.school_id, district_id=district_id).update(
        school_id=teacher.school_id, district_id=district_id
    )


def declarations_follow_school(*, school: Organisation) -> None:
    """A school moved to another district: its teachers' declarations go to that district's queue.
    Registered with `accounts.services.SCHOOL_MOVED` by `hours.apps`; runs in the move's transaction, after
    the school's row was updated (so a declaration being created meanwhile either committed before, and is
    moved here, or waits and reads the new district: `_current_area_locked`)."""
    # By its teachers (the teacher index): the school column's indexes hold only what waits for the school.
    Declaration.objects.filter(teacher__school_id=school.pk).exclude(district_id=school.parent_id).update(
        district_id=school.parent_id
    )


def declaration_save(
    *,
    role: Role,
    actor: User,
    data: dict[str, Any],
    files: list[tuple[str, Any]] | None = None,
    remove_evidence_ids: list[int] | None = None,
    declaration: Declaration | None = None,
    submit: bool = False,
    staged_ids: list[int] | None = None,
) -> Declaration:
    """Create or edit a draft (or returned) declaration with its evidence; optionally submit it.

    Nothing is stored unless everything is valid: fields, every file, the evidence rules
    and (when submitting) the record's required fields and the deadline.

    `staged_ids` are files the actor chose on an earlier try of the form (`staged_upload_create`):
    they become evidence like the new `files`, and their rows go in the same transaction, locked
    first, so that a file is attached once even when the same form is sent twice at once. An id
    that is not the actor's (or no longer kept) refuses the save.
    """
    teacher = _teacher_for(role)
    if teacher.status != TeacherStatus.ACTIVE:
        raise StateConflict(_("只有在职教师可以申报学时（当前状态：%(status)s）。") % {"status": teacher.get_status_display()})
    if declaration is not None:
        if not selectors.declarations_visible_to(role).filter(pk=declaration.pk).exists():
            raise NotFound
    files = files or []
    remove_evidence_ids = remove_evidence_ids or []
    staged_ids = list(dict.fromkeys(staged_ids or []))
    checked = []
    for kind, uploaded in files:
        if kind not in EvidenceKind.values:
            raise ValidationError({"evidence": _("未知的材料类型。")})
        content, content_type = check_evidence_file(uploaded)
        checked.append((kind, uploaded, content, content_type, hashlib.sha256(content).hexdigest()))

    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            if declaration is None:
                school_id, district_id = _current_area_locked(teacher.pk)
                decl: Declaration = Declaration(teacher=teacher, school_id=school_id, district_id=district_id)
            else:
                decl = Declaration.objects.select_for_update().get(pk=declaration.pk)
                if not decl.is_editable:
                    raise StateConflict(
                        _("只有草稿或被退回的申报可以修改（当前状态：%(state)s）。") % {"state": decl.get_state_display()}
                    )
                if decl.teacher_id == teacher.pk:
                    decl.teacher = teacher  # read once (with the school the answer names)
            for field in DECLARATION_FIELDS:
                if field in data:
                    setattr(decl, field, data[field])
            if decl.year:
                # A returned declaration may be corrected until the school's review deadline.
                year = Year.of(decl.year)
                _check_deadline(year, "school_review" if decl.state == DeclarationState.RETURNED else "declaration")
                decl._year_read = year  # type: ignore[attr-defined]  # the submit below checks its deadline on the same row
            decl.full_clean(exclude=["teacher", "state"])
            kept = list(StagedUpload.objects.select_for_update().filter(owner=actor, pk__in=staged_ids).order_by("pk"))
            if len(kept) != len(staged_ids):
                raise ValidationError({"evidence": _("保留的文件已失效，请重新选择。")})
            existing = decl.evidence.count() if declaration is not None else 0  # a new declaration has none yet
            if existing + len(checked) + len(kept) > MAX_EVIDENCE_FILES:
                raise ValidationError({"evidence": _("每份申报最多上传5个文件。")})
            # A new declaration submitted at once is checked and moved to its state before it is written, so that
            # it is inserted once as submitted (no second write of the row), with what the submit checks known
            # here: the kinds and hashes of its files.
            submit_new = submit and declaration is None
            if submit_new:
                _validate_for_submit(decl, teacher, kinds={k.kind for k in kept} | {c[0] for c in checked})
                from_state = _apply_transition(
                    decl, "submit", reason="", hashes=[k.sha256 for k in kept] + [c[4] for c in checked]
                )
            decl.save()
            if remove_evidence_ids:
                for ev in decl.evidence.filter(pk__in=remove_evidence_ids):
                    # The file goes only once the removal is committed: a refused save keeps it.
                    transaction.on_commit(partial(ev.file.storage.delete, str(ev.file.name)))
                    ev.delete()
            for staged in kept:
                with staged.file.open("rb") as fh:
                    content = fh.read()
                stored.append(_store_evidence(decl, staged.kind, staged.original_name, content, staged.content_type))
            if kept and _staged_delete(StagedUpload.objects.filter(pk__in=[k.pk for k in kept])) != len(kept):
                raise StateConflict(_("保留的文件已失效，请重新选择。"))
            for kind, uploaded, content, content_type, sha256 in checked:
                stored.append(_store_evidence(decl, kind, getattr(uploaded, "name", ""), content, content_type, sha256))
            if submit_new:
                event = _record_transition(decl, "submit", from_state, role=role, actor=actor, reason="")
            elif submit:
                _validate_for_submit(decl, teacher)
                _do_transition(decl, "submit", role=role, actor=actor, reason="")
            if declaration is None:
                # A new declaration's evidence and events are all written here: its answer needs no read back.
                _known_related(decl, evidence=stored, events=[event] if submit_new else [])
    except BaseException:
        # The rows rolled back, so the files written for them must go too: a refused save stores nothing.
        for evidence in stored:
            evidence.file.delete(save=False)
        raise
    return decl


def _known_related(decl: Declaration, *, evidence: list[Evidence], events: list[DeclarationEvent]) -> None:
    """Give `decl` its evidence and events as this call wrote them (Django's prefetch cache, as
    `prefetch_related` fills it), so that `decl.evidence.all()` and `decl.events.all()` read nothing back."""
    cache = decl.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in (("evidence", evidence), ("events", events)):
        qs = getattr(decl, name).get_queryset()
        qs._result_cache = list(rows)
        qs._prefetch_done = True
        cache[name] = qs


def _validate_for_submit(decl: Declaration, teacher: Teacher, kinds: set[str] | None = None) -> None:
    """The record's required fields and the evidence the declaration needs; `kinds`, the kinds of its files
    when the caller knows them (a declaration not written yet), else read."""
    missing = teacher.missing_required_fields()
    if missing:
        raise ValidationError({"teacher": _("请先在“个人信息”中填写：%(fields)s。") % {"fields": "、".join(missing)}})
    if kinds is None:
        kinds = set(decl.evidence.values_list("kind", flat=True))
    errors = []
    if EvidenceKind.CERTIFICATE not in kinds:
        errors.append(_("请上传证书原件的扫描件或照片。"))
    if not decl.certificate_in_chinese and EvidenceKind.TRANSLATION not in kinds:
        errors.append(_("证书不是中文的，请上传学校盖章的中文翻译件。"))
    if not decl.certificate_states_hours and EvidenceKind.HOURS_STATEMENT not in kinds:
        errors.append(_("证书未注明学时，请上传学校盖章的学时证明。"))
    if errors:
        raise ValidationError({"evidence": errors})


# --- declarations: transitions --------------------------------------------------------

# action -> (who may do it, which deadline applies)
ACTIONS = {
    "submit": ({RoleKind.TEACHER}, "declaration"),
    "school_approve": ({RoleKind.SCHOOL_ADMIN}, "school_review"),
    "school_return": ({RoleKind.SCHOOL_ADMIN}, "school_review"),
    "district_approve": ({RoleKind.DISTRICT_ADMIN}, "district_review"),
    "district_return": ({RoleKind.DISTRICT_ADMIN}, "district_review"),
    "reject": ({RoleKind.SCHOOL_ADMIN, RoleKind.DISTRICT_ADMIN}, None),
    # Until the year is locked: a withdrawn declaration is a draft again (resubmitting checks its own deadline).
    "withdraw": ({RoleKind.TEACHER}, None),
}
NEEDS_REASON = {"school_return", "district_return", "reject"}
DEADLINE_LABEL = {
    "declaration": gettext_lazy("申报截止日期"),
    "school_review": gettext_lazy("学校初审截止日期"),
    "district_review": gettext_lazy("区复审截止日期"),
}


def _check_deadline(year: Year, which: str | None) -> None:
    if which is None:
        return
    if year.is_locked:
        raise DeadlinePassed(_("%(year)s年度已锁定，不能再办理。") % {"year": year.year})
    deadline = getattr(year, f"{which}_deadline")
    if timezone.localdate() > deadline:
        raise DeadlinePassed(
            _("已超过%(year)s年度的%(label)s（%(date)s），不能再办理。")
            % {"year": year.year, "label": DEADLINE_LABEL[which], "date": f"{deadline:%Y-%m-%d}"}
        )


def _reject_deadline(decl: Declaration) -> str:
    return "school_review" if decl.state == DeclarationState.SUBMITTED else "district_review"


def declaration_transition(*, declaration_id: int, action: str, role: Role, actor: User, reason: str = "") -> Declaration:
    """The single path for a review or submit action on a declaration.

    The scope check and the row lock are one statement (the declaration in the role's scope, locked, read
    with its teacher, the teacher's school and account): out of scope is NotFound before anything else."""
    if action not in ACTIONS:
        raise ValidationError({"action": _("未知的操作。")})
    allowed_roles, _deadline = ACTIONS[action]
    reason = (reason or "").strip()
    with transaction.atomic():
        decl: Declaration | None = (
            selectors.declarations_visible_to(role)
            .select_related("teacher__user")
            .select_for_update(of=("self",))
            .filter(pk=declaration_id)
            .first()
        )
        if decl is None:
            raise NotFound
        if role.kind not in allowed_roles:
            raise PermissionDenied(_("您当前的角色不能办理此操作。"))
        if RoleKind.TEACHER not in allowed_roles and decl.teacher.user_id is not None and decl.teacher.user_id == actor.pk:
            # A school admin who is also a teacher of the school finds their own declaration in the queue.
            raise PermissionDenied(_("不能审核自己的申报。"))
        if action in NEEDS_REASON and not reason:
            raise ValidationError({"reason": _("退回或不予认定必须填写原因。")})
        if action == "reject":
            # Each level rejects only what waits at its level.
            level_state = DeclarationState.SUBMITTED if role.kind == RoleKind.SCHOOL_ADMIN else DeclarationState.SCHOOL_APPROVED
            if decl.state != level_state:
                raise StateConflict(_("该申报当前状态为“%(state)s”，不能办理此操作。") % {"state": decl.get_state_display()})
        if action == "submit":
            _validate_for_submit(decl, decl.teacher)
        if action == "withdraw" and Year.of(decl.year).is_locked:
            raise DeadlinePassed(_("%(year)s年度已锁定，不能再办理。") % {"year": decl.year})
        _do_transition(decl, action, role=role, actor=actor, reason=reason)
    return decl


def declaration_withdraw(*, declaration_id: int, role: Role, actor: User, reason: str = "") -> Declaration:
    """The teacher withdraws a submitted declaration (waiting for the school or the district): it
    becomes a draft again, to be corrected and resubmitted. Approved, rejected or void ones stay."""
    return declaration_transition(declaration_id=declaration_id, action="withdraw", role=role, actor=actor, reason=reason)


def _do_transition(decl: Declaration, action: str, *, role: Role | None, actor: User | None, reason: str) -> None:
    """Call inside a transaction holding the declaration's row lock."""
    from_state = _apply_transition(decl, action, reason=reason)
    try:
        decl.save()
    except ConcurrentTransition:
        raise StateConflict(_("该申报刚被其他人处理，请刷新后查看。"))
    _record_transition(decl, action, from_state, role=role, actor=actor, reason=reason)


def _apply_transition(decl: Declaration, action: str, *, reason: str, hashes: list[str] | None = None) -> str:
    """The state change in memory: the transition (StateConflict if the state does not allow it), its deadline,
    the reason and, on submit, the duplicate flags (`hashes`: the files' hashes when they are not written yet).
    Returns the state it left; the caller saves and then calls `_record_transition`."""
    _allowed, deadline = ACTIONS.get(action, (None, None))
    if action == "reject":
        deadline = _reject_deadline(decl)
    elif action == "submit" and decl.state == DeclarationState.RETURNED:
        # Resubmitting what a reviewer returned stays possible while the school can still review it.
        deadline = "school_review"
    method = getattr(decl, action)
    from_state = decl.state
    try:
        method()
    except TransitionNotAllowed:
        raise StateConflict(_("该申报当前状态为“%(state)s”，不能办理此操作。") % {"state": DeclarationState(from_state).label})
    # The deadline is checked after the state so that a wrong state answers 409 with its own message.
    if deadline is not None:
        year = getattr(decl, "_year_read", None)
        _check_deadline(year if year is not None and year.year == decl.year else Year.of(decl.year), deadline)
    if reason:
        decl.last_reason = reason[:1000]
    if action == "submit":
        decl.duplicate_flags = compute_duplicate_flags(decl, hashes=hashes)
    return str(from_state)


def _record_transition(
    decl: Declaration, action: str, from_state: str, *, role: Role | None, actor: User | None, reason: str
) -> DeclarationEvent:
    """What follows a saved transition: its event, on final approval the ledger entry, the teacher's notice."""
    event = DeclarationEvent.objects.create(
        declaration=decl,
        action=action,
        from_state=from_state,
        to_state=decl.state,
        actor=actor,
        actor_role=role.kind if role else "system",
        actor_org=role.organisation.name if role else "",
        reason=reason,
    )
    if action == "district_approve":
        ledger.entry_create(
            teacher=decl.teacher,
            year=decl.year,
            category=decl.category,
            hours=decl.hours,
            source=Source.DECLARATION,
            title=decl.title,
            organiser=decl.organiser,
            start_date=decl.start_date,
            end_date=decl.end_date,
            certificate_number=decl.certificate_number,
            declaration=decl,
            source_ref=f"declaration:{decl.pk}",
            school_based=decl.activity_type in SCHOOL_BASED_ACTIVITIES,
            actor=actor,
            year_open=True,  # `_apply_transition` checked the district's deadline on the year read in this transaction
        )
    if action in ("school_return", "district_return", "reject", "district_approve", "void"):
        _notify_teacher(decl, action, reason)
    return event


def _declared_transition(action: str) -> tuple[str, str]:
    """(source, target) of a single-source transition, read from the model's FSM declaration."""
    (transition,) = getattr(Declaration, action)._django_fsm.transitions.values()
    return transition.source, transition.target


def declarations_bulk_approve(*, ids: list[int], role: Role, actor: User) -> dict[str, list[Any]]:
    """Approve many declarations at the reviewer's level, set-based: the same number of statements for
    2 ids as for 500 (one scoped SELECT … FOR UPDATE, one year lookup, one UPDATE, one event insert,
    and on final approval one ledger insert and one notification insert). Returns
    {'approved': [...], 'failed': [{'id', 'error'}]}; what fails (out of scope, wrong state, deadline
    passed) is named and the rest is approved, in one transaction.

    Why not `declaration_transition` per id: 7–13 statements per item made 500 ids take 1–2 s while
    holding the reviewer's worker. The state change follows the model's declared transition
    (`_declared_transition`: its source and target), guarded in SQL by `state = source` on rows we
    hold locked, so it is the same transition the FSM would make, with the same audit event.
    """
    level = selectors.review_level(role)
    if level is None:
        raise PermissionDenied(_("您当前的角色不能审核申报。"))
    action = f"{level}_approve"
    allowed_roles, deadline = ACTIONS[action]
    if role.kind not in allowed_roles:
        raise PermissionDenied(_("您当前的角色不能办理此操作。"))
    source, target = _declared_transition(action)
    wanted = list(dict.fromkeys(ids))
    failed: dict[int, str] = {}
    with transaction.atomic():
        # Scope check and row lock in one statement (only the declaration rows are locked).
        rows = {
            r["pk"]: r
            for r in selectors.declarations_visible_to(role)
            .filter(pk__in=wanted)
            .order_by("pk")  # one lock order for every caller: two bulk approvals cannot deadlock
            .select_for_update(of=("self",))
            .values(
                "pk",
                "state",
                "teacher_id",
                "teacher__user_id",
                "teacher__email",
                "teacher__user__email",
                *DECLARATION_FIELDS,
            )
        }
        years = Year.of_many(sorted({r["year"] for r in rows.values()}))  # one query; a year nobody stored gets its defaults
        for pk in wanted:
            row = rows.get(pk)
            if row is None:
                failed[pk] = _("未找到")
            elif row["teacher__user_id"] is not None and row["teacher__user_id"] == actor.pk:
                # As for a single review: a school admin who is also a teacher there finds their own.
                failed[pk] = _("不能审核自己的申报。")
            elif row["state"] != source:
                failed[pk] = _("该申报当前状态为“%(state)s”，不能办理此操作。") % {"state": DeclarationState(row["state"]).label}
            else:
                try:
                    _check_deadline(years[row["year"]], deadline)
                except DeadlinePassed as exc:
                    failed[pk] = " ".join(exc.messages)
        approved = [pk for pk in wanted if pk not in failed]
        if approved:
            now = timezone.now()
            Declaration.objects.filter(pk__in=approved, state=source).update(state=target, updated_at=now)
            DeclarationEvent.objects.bulk_create(
                DeclarationEvent(
                    declaration_id=pk,
                    action=action,
                    from_state=source,
                    to_state=target,
                    actor=actor,
                    actor_role=role.kind,
                    actor_org=role.organisation.name,
                    reason="",
                    created_at=now,
                )
                for pk in approved
            )
            if action == "district_approve":
                _approved_declarations_to_ledger([rows[pk] for pk in approved], actor=actor)
                _notify_teachers_approved([rows[pk] for pk in approved])
    return {"approved": approved, "failed": [{"id": pk, "error": str(error)} for pk, error in failed.items()]}


def _approved_declarations_to_ledger(rows: list[dict[str, Any]], *, actor: User) -> None:
    """One ledger entry per finally approved declaration, through the ledger's batch writer (one check
    of the years, one look-up of the source references, one INSERT); `source_ref` keeps each once.
    The rows are the ones `ledger.entry_create` writes for a single approval."""
    ledger.entries_create_many(
        [
            dict(
                teacher_id=r["teacher_id"],
                year=r["year"],
                category=r["category"],
                hours=r["hours"],
                source=Source.DECLARATION,
                title=r["title"],
                organiser=r["organiser"],
                start_date=r["start_date"],
                end_date=r["end_date"],
                certificate_number=r["certificate_number"],
                declaration_id=r["pk"],
                source_ref=f"declaration:{r['pk']}",
                school_based=r["activity_type"] in SCHOOL_BASED_ACTIVITIES,
                actor=actor,
            )
            for r in rows
        ]
    )


def _notify_teachers_approved(rows: list[dict[str, Any]]) -> None:
    """The 'approved' notice for each declaration's teacher, in one insert; e-mails after commit."""
    notes, mails = [], []
    for r in rows:
        if r["teacher__user_id"] is None:
            continue
        with source_language():
            message = str(NOTIFY_TEXT["district_approve"]) % {"title": r["title"], "reason": "", "hours": r["hours"]}
        notes.append(
            Notification(
                user_id=r["teacher__user_id"],
                message=message[:500],
                link=reverse("declaration_detail", args=[r["pk"]]),
                declaration_id=r["pk"],
            )
        )
        email = r["teacher__email"] or r["teacher__user__email"]
        if email:
            mails.append((message, email))
    Notification.objects.bulk_create(notes)
    for message, email in mails:
        transaction.on_commit(functools.partial(_send_notice_mail, message, email))


# --- duplicates -------------------------------------------------------------------------


# The look-ups of `compute_duplicate_flags`, in the order of the flags: (kind, what the id names, SQL giving
# (id, teacher id), at most 5 rows each). Written out rather than built by the ORM: building and compiling the
# five querysets took more CPU than anything else in a create+submit (2.6 ms of its 15.7 ms of Python), on
# the path that has to keep up with a city's year-end rush. `{own_decl}`/`{own_entry}` leave out the
# declaration itself when it has an id; `{hashes}` is its files' hashes (a list, or a subquery on its
# stored evidence).
_UNDECIDED_OR_VOID = (DeclarationState.VOID, DeclarationState.REJECTED, DeclarationState.DRAFT)
_HELD = "NOT EXISTS (SELECT 1 FROM hours_ledgerentry r WHERE r.revokes_id = e.id) AND e.revokes_id IS NULL"
_DUPLICATE_LOOKUPS = {
    "certificate_declaration": (
        "certificate",
        "declaration",
        "SELECT d.id, d.teacher_id FROM hours_declaration d WHERE d.certificate_number = %s AND d.state NOT IN (%s, %s, %s)"
        "{own_decl} ORDER BY d.updated_at DESC, d.id DESC LIMIT 5",
    ),
    "certificate_ledger": (
        "certificate",
        "ledger_entry",
        f"SELECT e.id, e.teacher_id FROM hours_ledgerentry e WHERE e.certificate_number = %s AND {_HELD}"
        "{own_entry} ORDER BY e.year, e.created_at, e.id LIMIT 5",
    ),
    "title_dates_declaration": (
        "title_dates",
        "declaration",
        "SELECT d.id, d.teacher_id FROM hours_declaration d WHERE d.teacher_id = %s AND d.title = %s AND d.organiser = %s"
        " AND d.start_date <= %s AND d.end_date >= %s AND d.state NOT IN (%s, %s, %s)"
        "{own_decl} ORDER BY d.updated_at DESC, d.id DESC LIMIT 5",
    ),
    "title_dates_ledger": (
        "title_dates",
        "ledger_entry",
        "SELECT e.id, e.teacher_id FROM hours_ledgerentry e WHERE e.teacher_id = %s AND e.title = %s AND e.organiser = %s"
        f" AND e.start_date <= %s AND e.end_date >= %s AND {_HELD}"
        "{own_entry} ORDER BY e.year, e.created_at, e.id LIMIT 5",
    ),
    "evidence": (
        "evidence",
        "declaration",
        "SELECT DISTINCT v.declaration_id, d.teacher_id FROM hours_evidence v JOIN hours_declaration d ON d.id = v.declaration_id"
        " WHERE v.sha256 IN ({hashes}){own_file} ORDER BY v.declaration_id LIMIT 5",
    ),
}


def compute_duplicate_flags(decl: Declaration, hashes: list[str] | None = None) -> list[dict[str, Any]]:
    """Likely duplicates, for reviewers (SPEC §3): same certificate number anywhere (another live declaration,
    or a ledger entry whose hours still count: neither a correction nor revoked by one); same teacher, title and
    organiser with overlapping dates in the ledger or another live declaration; the same evidence file
    (content hash) in any other declaration of any teacher. Live: neither draft, rejected nor void.

    One statement: the five look-ups (each an index lookup, at most 5 rows: `_DUPLICATE_LOOKUPS`) joined by
    UNION ALL, so a submit pays one round trip for them. `hashes` are the declaration's files' hashes when they
    are not written yet (a new declaration submitted at once); otherwise its stored evidence is read in the same
    statement. `decl` may be unsaved (no id yet): then nothing of its own is there to leave out."""
    own = decl.pk is not None
    fill = {
        "own_decl": " AND d.id <> %s" if own else "",
        "own_entry": " AND (e.declaration_id IS NULL OR e.declaration_id <> %s)" if own else "",
        "own_file": " AND v.declaration_id <> %s" if own else "",
    }
    states = [str(s) for s in _UNDECIDED_OR_VOID]
    dates = [decl.teacher_id, decl.title, decl.organiser, decl.end_date, decl.start_date]
    chosen: list[tuple[str, list[Any]]] = []
    if decl.certificate_number:
        chosen.append(("certificate_declaration", [decl.certificate_number, *states, *([decl.pk] if own else [])]))
        chosen.append(("certificate_ledger", [decl.certificate_number, *([decl.pk] if own else [])]))
    chosen.append(("title_dates_declaration", [*dates, *states, *([decl.pk] if own else [])]))
    chosen.append(("title_dates_ledger", [*dates, *([decl.pk] if own else [])]))
    if hashes is None and own:
        chosen.append(("evidence", [decl.pk, decl.pk]))
        fill["hashes"] = "SELECT sha256 FROM hours_evidence WHERE declaration_id = %s"
    elif hashes:
        unique = list(dict.fromkeys(hashes))
        chosen.append(("evidence", [*unique, *([decl.pk] if own else [])]))
        fill["hashes"] = ", ".join(["%s"] * len(unique))
    parts, params = [], []
    for i, (name, values) in enumerate(chosen):
        parts.append(f"SELECT {i} AS part, q.* FROM ({_DUPLICATE_LOOKUPS[name][2].format(**fill)}) q")
        params += values
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = cursor.fetchall()
    flags: list[dict[str, Any]] = []
    for part, pk, teacher_id in sorted(found, key=lambda row: row[0]):  # stable: each part keeps its own order
        kind, source, _sql = _DUPLICATE_LOOKUPS[chosen[part][0]]
        flag: dict[str, Any] = {"kind": kind, source: pk}
        if source == "declaration":
            flag["same_teacher"] = teacher_id == decl.teacher_id
        flags.append(flag)
    return flags


# --- notifications ------------------------------------------------------------------------

NOTIFY_TEXT = {
    "school_return": gettext_lazy("您的申报“%(title)s”被学校退回：%(reason)s"),
    "district_return": gettext_lazy("您的申报“%(title)s”被区复审退回：%(reason)s"),
    "reject": gettext_lazy("您的申报“%(title)s”不予认定：%(reason)s"),
    "district_approve": gettext_lazy("您的申报“%(title)s”已通过审核，%(hours)s学时已计入学时银行。"),
    "void": gettext_lazy("您的申报“%(title)s”在审核截止前未完成，已作废。"),
}


def _notify_teacher(decl: Declaration, action: str, reason: str) -> None:
    user_id = decl.teacher.user_id
    if user_id is None:
        return
    with source_language():
        message = str(NOTIFY_TEXT[action]) % {"title": decl.title, "reason": reason, "hours": decl.hours}
    link = reverse("declaration_detail", args=[decl.pk])
    Notification.objects.create(user_id=user_id, message=message[:500], link=link, declaration=decl)
    email = decl.teacher.email or getattr(decl.teacher.user, "email", "")
    if email:
        transaction.on_commit(
            lambda: send_mail(_("继续教育学时申报通知"), message, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True)
        )


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


# --- year deadlines and the year-end job -------------------------------------------------------


def year_update(*, role: Role, year: int, data: dict[str, Any]) -> Year:
    """The city sets a year's deadlines."""
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以设置截止日期。"))
    with transaction.atomic():
        obj = Year.get_or_create_for(year)
        obj = Year.objects.select_for_update().get(pk=obj.pk)
        if obj.is_locked:
            raise StateConflict(_("%(year)s年度已锁定。") % {"year": year})
        for field in ("declaration_deadline", "school_review_deadline", "district_review_deadline"):
            if field in data and data[field] is not None:
                setattr(obj, field, data[field])
        obj.full_clean()
        obj.save()
    return obj


def year_close_if_due(*, year: int, today: datetime.date | None = None) -> dict[str, int]:
    """After the year's last deadline: void every undecided declaration and lock the year.

    Idempotent: a second run finds nothing open and the year already locked.
    """
    today = today or timezone.localdate()
    obj = Year.get_or_create_for(year)
    if today <= obj.district_review_deadline:
        return {"voided": 0, "locked": 0}
    voided = 0
    open_ids = list(
        Declaration.objects.filter(
            year=year,
            state__in=OPEN_STATES,
        ).values_list("pk", flat=True)
    )
    for pk in open_ids:
        with transaction.atomic():
            decl = Declaration.objects.select_for_update().select_related("teacher").get(pk=pk)
            if decl.state in (DeclarationState.APPROVED, DeclarationState.REJECTED, DeclarationState.VOID):
                continue
            _do_transition(decl, "void", role=None, actor=None, reason=_("已超过审核截止日期"))
            voided += 1
    locked = Year.objects.filter(pk=year, locked_at__isnull=True).update(locked_at=timezone.now())
    return {"voided": voided, "locked": locked}


def years_close_due(*, today: datetime.date | None = None) -> dict[int, dict[str, int]]:
    """The daily job: close every unlocked year whose last deadline has passed."""
    today = today or timezone.localdate()
    results = {}
    # A past year with declarations or hours but no Year row yet (reads never store one) gets its default deadlines.
    past = set(Declaration.objects.filter(year__lt=today.year).values_list("year", flat=True).distinct())
    past |= set(LedgerEntry.objects.filter(year__lt=today.year).values_list("year", flat=True).distinct())
    for y in past:
        Year.get_or_create_for(y)
    for y in Year.objects.filter(locked_at__isnull=True, district_review_deadline__lt=today).values_list("year", flat=True):
        results[y] = year_close_if_due(year=y, today=today)
    return results


CATEGORY_LABELS = dict(Category.choices)


def _send_notice_mail(message: str, email: str) -> None:
    send_mail(_("继续教育学时申报通知"), message, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=True)
