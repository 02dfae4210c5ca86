"""Browser pages for training projects, enrolment, registration, imports, extensions,
registration complaints and the online-course catalogue."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organisation, OrgKind, RoleKind, Teacher, TeacherStatus
from accounts.permissions import require_role
from accounts.selectors import name_contains
from cpd.bad_input import is_int_text
from cpd.errors import NotFound, StateConflict
from cpd.pagination import capped_count, keyset_page
from cpd.xlsx import XLSX_CONTENT_TYPE
from hours.models import LedgerEntry, Source

from . import imports, projects
from .forms import (
    ComplaintForm,
    ComplaintResolveForm,
    CourseForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    ImportUploadForm,
    ProjectForm,
    RegisterForm,
)
from .models import (
    EnrolmentState,
    ExtensionState,
    HoursImportKind,
    HoursImportStatus,
    OnlineCourse,
    RegistrationExtension,
    TrainingProject,
)

ENROLMENT_QUEUE_STATE = {
    RoleKind.PRINCIPAL: EnrolmentState.APPLIED,
    RoleKind.DISTRICT_ADMIN: EnrolmentState.PRINCIPAL_APPROVED,
    RoleKind.CITY_ADMIN: EnrolmentState.DISTRICT_APPROVED,
}
APPROVE_ACTION = {
    RoleKind.PRINCIPAL: "principal_approve",
    RoleKind.DISTRICT_ADMIN: "district_approve",
    RoleKind.CITY_ADMIN: "finalise",
}


def _errors_to_messages(request, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc)


def _city_districts(role):
    city_path = role.organisation.root_path
    return Organisation.objects.filter(path__startswith=city_path, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]).order_by(
        "code"
    )


# --- projects ----------------------------------------------------------------------------------------


@login_required
def project_list(request):
    role = require_role(request)
    qs = projects.projects_visible_to(role).order_by("-start_date", "-pk")
    mine = request.GET.get("mine") == "1"
    if mine:
        qs = qs.filter(organiser=role.organisation)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(organiser__name__icontains=q))
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    enrolled = {}
    if role.kind == RoleKind.TEACHER:
        enrolled = {e.project_id: e for e in projects.enrolments_visible_to(role).filter(project__in=[p.pk for p in page])}
    for p in page:
        p.my_enrolment = enrolled.get(p.pk)
        p.open_now = p.enrolment_open(timezone.localdate())
    return render(
        request,
        "hours/project_list.html",
        {
            "page": page,
            "can_create": role.kind in projects.ORGANISER_ROLES,
            "mine": mine,
            "q": q,
            "query": f"mine={'1' if mine else ''}&q={q}",
        },
    )


@login_required
def project_form(request, pk: int | None = None):
    role = require_role(request, *projects.ORGANISER_ROLES)
    project = get_object_or_404(projects.projects_managed_by(role), pk=pk) if pk else None
    districts = _city_districts(role)
    quotas = {q.district_id: q.quota for q in project.quotas.all()} if project else {}
    form = ProjectForm(
        request.POST or None,
        instance=TrainingProject.objects.get(pk=pk) if pk else None,
        levels=projects.LEVELS_FOR_ORG.get(role.organisation.kind, ()),
        districts=districts,
        quotas=quotas,
    )
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data.get(f) for f in projects.PROJECT_FIELDS}
        try:
            saved = projects.project_save(role=role, actor=request.user, data=data, quotas=form.quotas(), project=project)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except StateConflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("项目已保存。"))
            return redirect("project_detail", pk=saved.pk)
    return render(request, "hours/project_form.html", {"form": form, "project": project})


ENROLMENTS_PER_PAGE = 50
REGISTRATIONS_PER_PAGE = 50
REGISTRATIONS_CURSOR = "registrations_cursor"  # the enrolments' list on the same page pages by `cursor`
CANDIDATES_SHOWN = 50
CANDIDATES_COUNT_CAP = 1000


def _teacher_search(q: str) -> Q:
    """Teachers whose name contains `q`, whose CPD number is `q`, or whose school's name contains `q`: as
    the roster finds teachers (the name by its index), with the school's name matched among the schools
    first, so that every branch is an index condition and a rare name reads only its few teachers."""
    schools = list(
        Organisation.objects.filter(kind=OrgKind.SCHOOL, name__icontains=q).values_list("pk", flat=True)[: SCHOOLS_SEARCHED + 1]
    )
    by_school = Q(school__name__icontains=q) if len(schools) > SCHOOLS_SEARCHED else Q(school_id__in=schools)
    return name_contains(q) | Q(cpd_number=q) | by_school


SCHOOLS_SEARCHED = 500  # beyond this many schools matching by name, the school branch is a join filter


class _Candidate:
    """A row of the tick list: the template reads `row.teacher` for enrolments and for teachers alike."""

    def __init__(self, teacher):
        self.teacher = teacher


@login_required
def project_detail(request, pk: int):
    role = require_role(request)
    project = get_object_or_404(projects.projects_visible_to(role).prefetch_related("extensions"), pk=pk)
    is_organiser = project.organiser_id == role.organisation_id and role.kind in projects.ORGANISER_ROLES
    context = {
        "p": project,
        "is_organiser": is_organiser,
        "quota_usage": projects.quota_usage(project),
        "deadline": project.registration_deadline(),
        "open_now": project.enrolment_open(timezone.localdate()),
    }
    if role.kind == RoleKind.TEACHER:
        context["my_enrolment"] = projects.enrolments_visible_to(role).filter(project=project).first()
    if is_organiser:
        settled = [EnrolmentState.FINAL, EnrolmentState.REJECTED, EnrolmentState.WITHDRAWN]
        counts = project.enrolments.aggregate(total=Count("pk"), pending=Count("pk", filter=~Q(state__in=settled)))
        query = (request.GET.get("q") or "").strip()[:50]
        # The tick list: those finally enrolled, or without enrolment (无需报名) everyone the organiser may
        # register (its school, its district, or for a provider the city's teachers of the project's stage).
        # Either can be a city's thousands, so it is searched (name, CPD number or school) and shows the first
        # CANDIDATES_SHOWN in school and name order, with a count that stops at CANDIDATES_COUNT_CAP.
        if project.has_enrolment:
            pool = Teacher.objects.filter(enrolments__project=project, enrolments__state=EnrolmentState.FINAL)
        else:
            pool = projects.organiser_teachers(project).filter(status=TeacherStatus.ACTIVE)
        if query:
            pool = pool.filter(_teacher_search(query))
        eligible_count, eligible_more = capped_count(pool, CANDIDATES_COUNT_CAP)
        candidates = [
            _Candidate(t) for t in pool.select_related("school").order_by("school__code", "name", "pk")[:CANDIDATES_SHOWN]
        ]
        registered = projects.registered_teacher_ids(project, among=[c.teacher.pk for c in candidates])
        context.update(
            {
                "candidates": candidates,
                "query": query,
                "eligible_count": eligible_count,
                "eligible_more": eligible_more,
                "candidates_shown": CANDIDATES_SHOWN,
                # 50 a page by keyset on (state, created_at, id) within the project (training 0003's index): a
                # city-wide project's thousands of enrolments were all rendered, sorted by school and name.
                "enrolments": keyset_page(
                    project.enrolments.select_related("teacher", "teacher__school", "district").order_by(
                        "state", "created_at", "pk"
                    ),
                    request.GET.get("cursor"),
                    ENROLMENTS_PER_PAGE,
                    count=False,
                )
                if project.has_enrolment
                else [],
                "enrolment_count": counts["total"],
                "registered_ids": registered,
                # The registrations, newest first, 50 a page (they were the first 500 by name, all sorted).
                "entries": keyset_page(
                    LedgerEntry.objects.filter(project=project, source=Source.REGISTRATION)
                    .select_related("teacher", "teacher__school")
                    .order_by("-created_at", "-pk"),
                    request.GET.get(REGISTRATIONS_CURSOR),
                    REGISTRATIONS_PER_PAGE,
                    count=False,
                ),
                "registrations_cursor": REGISTRATIONS_CURSOR,
                "entry_count": projects.registration_count(project),
                "register_form": RegisterForm(),
                "upload_form": ImportUploadForm(),
                "extension_form": ExtensionRequestForm(),
                "imports": project.imports.all()[:10],
                "pending_enrolments": counts["pending"],
            }
        )
    return render(request, "hours/project_detail.html", context)


@login_required
@require_POST
def project_publish(request, pk: int):
    role = require_role(request)
    project = get_object_or_404(projects.projects_managed_by(role), pk=pk)
    try:
        projects.project_publish(role=role, project=project)
    except StateConflict as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("项目已发布。"))
    return redirect("project_detail", pk=pk)


# --- enrolment -------------------------------------------------------------------------------------


@login_required
@require_POST
def project_enrol(request, pk: int):
    role = require_role(request, RoleKind.TEACHER)
    project = get_object_or_404(projects.projects_visible_to(role), pk=pk)
    try:
        projects.enrolment_apply(role=role, actor=request.user, project=project)
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("报名成功，等待校长审核。"))
    return redirect("project_detail", pk=pk)


@login_required
def enrolment_list(request):
    role = require_role(request)
    # Oldest application first, keyset pages on (created_at, id): ordering by the project's date and the
    # teacher's name sorted the whole scope (50,000 rows for a city of 200,000 teachers) for every page.
    qs = projects.enrolments_visible_to(role).order_by("created_at", "pk")
    queue_state = ENROLMENT_QUEUE_STATE.get(role.kind)
    show = request.GET.get("show", "queue" if queue_state else "all")
    if show == "queue" and queue_state:
        qs = qs.filter(state=queue_state)
    page = keyset_page(qs, request.GET.get("cursor"), 30, count=False)
    return render(
        request,
        "hours/enrolment_list.html",
        {
            "page": page,
            "queue_state": queue_state,
            "show": show,
            "is_teacher": role.kind == RoleKind.TEACHER,
            "query": f"show={show}",
        },
    )


@login_required
@require_POST
def enrolment_action(request):
    role = require_role(request)
    action = request.POST.get("action")
    ids = [int(x) for x in request.POST.getlist("ids") if is_int_text(x)]
    reason = request.POST.get("reason", "")
    if action == "approve":
        action = APPROVE_ACTION.get(role.kind, "")
    done, failed = 0, []
    for pk in ids:
        try:
            projects.enrolment_transition(enrolment_id=pk, action=action, role=role, actor=request.user, reason=reason)
            done += 1
        except (Http404, NotFound):
            failed.append(f"#{pk}: {_('未找到')}")
        except (StateConflict, ValidationError, PermissionDenied) as exc:
            failed.append(f"#{pk}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
    if done:
        messages.success(request, _("已办理 %(n)s 条报名。") % {"n": done})
    for f in failed:
        messages.error(request, f)
    next_url = request.POST.get("next") or ""
    # Django's check, not a prefix test: browsers read "//host" and "/\host" as another site.
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("enrolment_list")


# --- registration ------------------------------------------------------------------------------------


@login_required
@require_POST
def project_register(request, pk: int):
    """Tick attendees: each checked teacher gets the hours typed next to them (default: the project's)."""
    role = require_role(request)
    project = get_object_or_404(projects.projects_managed_by(role), pk=pk)
    rows = []
    try:
        for tid in request.POST.getlist("teachers"):
            hours_text = request.POST.get(f"hours_{tid}") or str(project.hours)
            rows.append((int(tid), Decimal(hours_text)))
    except (ValueError, InvalidOperation):
        messages.error(request, _("学时须为数字。"))
        return redirect("project_detail", pk=pk)
    if not rows:
        messages.error(request, _("请勾选参训教师。"))
        return redirect("project_detail", pk=pk)
    try:
        result = projects.registration_register(
            role=role, actor=request.user, project=project, rows=rows, note=request.POST.get("note", "")
        )
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(
            request, _("已登记 %(n)s 人；%(u)s 人此前已登记。") % {"n": result["registered"], "u": result["unchanged"]}
        )
    return redirect("project_detail", pk=pk)


@login_required
@require_POST
def registration_revoke(request, entry_pk: int):
    role = require_role(request)
    entry = get_object_or_404(LedgerEntry.objects.filter(project__in=projects.projects_managed_by(role)), pk=entry_pk)
    try:
        projects.registration_revoke(role=role, actor=request.user, entry=entry, reason=request.POST.get("reason", ""))
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("已撤销该登记。"))
    return redirect("project_detail", pk=entry.project_id)


# --- imports ------------------------------------------------------------------------------------------


@login_required
def registration_template(request):
    response = HttpResponse(imports.registration_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="registration-template.xlsx"'
    return response


@login_required
def provincial_template(request):
    response = HttpResponse(imports.provincial_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="provincial-template.xlsx"'
    return response


@login_required
@require_POST
def project_import_upload(request, pk: int):
    role = require_role(request)
    project = get_object_or_404(projects.projects_managed_by(role), pk=pk)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要上传的文件。"))
        return redirect("project_detail", pk=pk)
    try:
        record = imports.hours_import_upload(
            role=role, actor=request.user, uploaded=form.cleaned_data["file"], kind=HoursImportKind.REGISTRATION, project=project
        )
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
        return redirect("project_detail", pk=pk)
    return redirect("hours_import_detail", pk=record.pk)


@login_required
def provincial_import(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = imports.hours_import_upload(
                role=role, actor=request.user, uploaded=form.cleaned_data["file"], kind=HoursImportKind.PROVINCIAL
            )
        except (StateConflict, ValidationError) as exc:
            _apply_errors(form, exc) if isinstance(exc, ValidationError) else form.add_error(None, exc.message)
        else:
            return redirect("hours_import_detail", pk=record.pk)
    recent = imports.imports_visible_to(role).filter(kind=HoursImportKind.PROVINCIAL)[:10]
    return render(request, "hours/provincial_import.html", {"form": form, "recent": recent})


@login_required
def hours_import_detail(request, pk: int):
    role = require_role(request)
    record = get_object_or_404(imports.imports_visible_to(role), pk=pk)
    if request.method == "POST":
        try:
            record = imports.hours_import_confirm(role=role, actor=request.user, record=record)
        except (StateConflict, ValidationError) as exc:
            _errors_to_messages(request, exc)
        return redirect("hours_import_detail", pk=pk)
    running = record.status in (HoursImportStatus.VALIDATING, HoursImportStatus.IMPORTING)
    template = "hours/_import_status.html" if request.headers.get("HX-Request") else "hours/import_detail.html"
    return render(request, template, {"record": record, "running": running, "errors": record.errors[:1000]})


# --- extensions --------------------------------------------------------------------------------------------


@login_required
@require_POST
def extension_request(request, pk: int):
    role = require_role(request)
    project = get_object_or_404(projects.projects_managed_by(role), pk=pk)
    form = ExtensionRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写申请日期和理由。"))
        return redirect("project_detail", pk=pk)
    try:
        projects.extension_request(role=role, actor=request.user, project=project, **form.cleaned_data)
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("延期申请已提交，等待市里审批。"))
    return redirect("project_detail", pk=pk)


@login_required
def extension_list(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    city_path = role.organisation.path
    qs = RegistrationExtension.objects.filter(project__organiser__path__startswith=city_path).select_related(
        "project", "project__organiser", "requested_by"
    )
    if request.method == "POST":
        ext = get_object_or_404(qs, pk=_posted_id(request, "extension"))
        form = ExtensionDecisionForm(request.POST)
        if form.is_valid():
            try:
                projects.extension_decide(
                    role=role,
                    actor=request.user,
                    extension=ext,
                    grant=request.POST.get("decision") == "grant",
                    granted_until=form.cleaned_data["granted_until"],
                    note=form.cleaned_data["note"] or "",
                )
            except (StateConflict, ValidationError) as exc:
                _errors_to_messages(request, exc)
            else:
                messages.success(request, _("已审批。"))
        return redirect("extension_list")
    return render(
        request,
        "hours/extension_list.html",
        {
            "pending": qs.filter(state=ExtensionState.PENDING),
            "decided": qs.exclude(state=ExtensionState.PENDING)[:50],
            "form": ExtensionDecisionForm(),
        },
    )


# --- complaints ---------------------------------------------------------------------------------------------


@login_required
def complaint_new(request, entry_pk: int):
    role = require_role(request, RoleKind.TEACHER)
    entry = get_object_or_404(LedgerEntry.objects.filter(teacher__user_id=role.user_id).select_related("project"), pk=entry_pk)
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            projects.complaint_file(role=role, actor=request.user, entry=entry, message=form.cleaned_data["message"])
        except (StateConflict, ValidationError) as exc:
            _errors_to_messages(request, exc)
        else:
            messages.success(request, _("异议已提交给主办单位。"))
            return redirect(f"/hours/?year={entry.year}")
    return render(request, "hours/complaint_form.html", {"form": form, "entry": entry})


@login_required
def complaint_list(request):
    role = require_role(request)
    if role.kind == RoleKind.TEACHER:
        qs = projects.RegistrationComplaint.objects.filter(teacher__user_id=role.user_id).select_related(
            "entry", "entry__project"
        )
        return render(request, "hours/complaint_list.html", {"complaints": qs, "is_teacher": True})
    qs = projects.complaints_for_organiser(role)
    if request.method == "POST":
        complaint = get_object_or_404(qs, pk=_posted_id(request, "complaint"))
        form = ComplaintResolveForm(request.POST)
        if form.is_valid():
            try:
                projects.complaint_resolve(
                    role=role,
                    actor=request.user,
                    complaint=complaint,
                    accept=request.POST.get("decision") == "accept",
                    response=form.cleaned_data["response"],
                )
            except (StateConflict, ValidationError) as exc:
                _errors_to_messages(request, exc)
            else:
                messages.success(request, _("已处理。"))
        else:
            messages.error(request, _("请填写处理意见。"))
        return redirect("complaint_list")
    return render(request, "hours/complaint_list.html", {"complaints": qs, "is_teacher": False})


# --- online courses -------------------------------------------------------------------------------------------


@login_required
def course_list(request):
    role = require_role(request)
    can_manage = role.kind == RoleKind.CITY_ADMIN
    form = None
    if can_manage:
        instance = (
            get_object_or_404(OnlineCourse, pk=request.GET.get("edit")) if is_int_text(request.GET.get("edit", "")) else None
        )
        form = CourseForm(request.POST or None, instance=instance)
        if request.method == "POST" and form.is_valid():
            form.save()
            messages.success(request, _("课程已保存。"))
            return redirect("course_list")
    qs = OnlineCourse.objects.all() if can_manage else OnlineCourse.objects.filter(is_active=True)
    return render(request, "hours/course_list.html", {"courses": qs, "form": form, "can_manage": can_manage})


@login_required
@require_POST
def project_approval(request, pk: int):
    """The city office approves or refuses a county's key-teacher project (cycle regime)."""
    role = require_role(request, RoleKind.CITY_ADMIN)
    project = get_object_or_404(
        TrainingProject.objects.select_related("organiser"), pk=pk, organiser__path__startswith=role.organisation.path
    )
    try:
        projects.project_approve(
            role=role, actor=request.user, project=project, approve=request.POST.get("decision") == "approve"
        )
    except (StateConflict, ValidationError) as exc:
        _errors_to_messages(request, exc)
    else:
        messages.success(request, _("已审批。"))
    return redirect("project_detail", pk=pk)


def _posted_id(request, name: str) -> int:
    """The id a form posted; anything but digits is a 404 like an unknown id, never a 500."""
    value = request.POST.get(name, "")
    if not is_int_text(value):
        raise Http404
    return int(value)
