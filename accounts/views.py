"""Browser pages: login, workspace per role, my record, roster, imports, organisations."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cpd.choices import page_display
from cpd.errors import StateConflict
from cpd.pagination import keyset_page, list_count
from cpd.rows import html_format, html_partial, shown, url_format, ymd
from security.models import AuditEventKind
from security.services import audit_record

from . import roster_import as importer
from . import selectors, services
from .forms import (
    OrganisationForm,
    RosterFilterForm,
    RosterUploadForm,
    StatusChangeForm,
    TeacherAdminForm,
    TeacherSelfForm,
    TransferForm,
    picker_text,
)
from .idnumber import id_number_error, normalise_id_number
from .middleware import SESSION_ROLE_KEY
from .models import Organisation, OrgKind, RoleKind, RosterImportStatus, Teacher, TeacherStatus
from .permissions import require_role


def _get_teacher_for_user(request, pk: int) -> Teacher:
    return get_object_or_404(selectors.teachers_visible_to(request.role), pk=pk)


def _apply_validation_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


# --- workspace ---------------------------------------------------------------


@login_required
def workspace(request):
    role = request.role
    if role is None:
        return render(request, "accounts/workspace_none.html", {"role": role})
    return render(request, "accounts/workspace.html", workspace_context(request))


def workspace_context(request) -> dict:
    """The figures of the role's workspace (also shown on the home pages built on top of it)."""
    role = request.role
    context: dict = {"role": role}
    if role.kind == RoleKind.TEACHER:
        teacher = selectors.teachers_visible_to(role).first()
        context["teacher"] = teacher
        context["missing"] = teacher.missing_required_fields() if teacher else []
    elif role.kind in selectors.SCHOOL_ROLES:
        teachers = Teacher.objects.filter(school=role.organisation)
        context["counts"] = teachers.aggregate(
            active=Count("pk", filter=Q(status=TeacherStatus.ACTIVE)),
            incomplete=Count(
                "pk",
                filter=Q(status=TeacherStatus.ACTIVE)
                & (
                    Q(stage="")
                    | Q(subject="")
                    | Q(title="")
                    | Q(post_type="")
                    | Q(gender="")
                    | Q(first_employment_date__isnull=True)
                ),
            ),
        )
        last = context["last_confirmation"] = role.organisation.roster_confirmations.first()
        # As schools_overdue_confirmation(role).exists() answers, from the confirmation just read.
        school = role.organisation
        context["overdue"] = (
            school.kind == OrgKind.SCHOOL
            and school.is_active
            and selectors.confirmation_overdue(last.confirmed_at if last else None)
        )
    elif role.kind == RoleKind.PROVIDER:
        context["project_count"] = role.organisation.projects.count()  # the organiser's own projects
    elif role.kind in selectors.AREA_ROLES:
        # The area's active teachers: exact when cheap, else the planner's estimate, said as such (a city of
        # 1,500,000 teachers cost 0.6-1.8 s per home page counted exactly).
        active = selectors.teachers_visible_to(role).filter(status=TeacherStatus.ACTIVE)
        context["total_teachers"], context["total_teachers_estimated"] = list_count(active)
        # Its schools and the overdue ones, read at most every ROSTER_OVERVIEW_SECONDS (selectors.roster_overview).
        overview = selectors.roster_overview(role)
        context["school_count"], context["overdue_count"] = overview.school_count, overview.overdue_count
        context["overdue_schools"] = overview.overdue_schools
    return context


@login_required
@require_POST
def switch_role(request):
    role = selectors.pick_role(request.user_roles, request.POST.get("role"))
    if role is None or str(role.pk) != request.POST.get("role"):
        raise Http404
    previous = request.role
    request.session[SESSION_ROLE_KEY] = role.pk
    audit_record(
        event=AuditEventKind.ROLE_SWITCH,
        request=request,
        role=role,
        obj=role,
        details={"from": str(previous) if previous else ""},
    )
    messages.success(request, _("已切换到：%(role)s") % {"role": role})
    return redirect("workspace")


# --- my record ---------------------------------------------------------------


@login_required
def my_record(request):
    role = require_role(request, RoleKind.TEACHER)
    teacher = selectors.teachers_visible_to(role).first()
    if teacher is None:
        raise Http404
    if request.method == "POST":
        form = TeacherSelfForm(request.POST, instance=Teacher.objects.get(pk=teacher.pk))
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                teacher = services.teacher_update(role=role, teacher=teacher, data=data, actor=request.user)
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, _("个人信息已保存。"))
                return redirect("my_record")
    else:
        form = TeacherSelfForm(instance=teacher)
    audit_record(event=AuditEventKind.ID_NUMBER_VIEW, request=request, obj=teacher, details={"page": "my_record"})
    return render(
        request,
        "accounts/my_record.html",
        {"teacher": teacher, "form": form, "missing": teacher.missing_required_fields(), "events": teacher.events.all()[:20]},
    )


# --- roster ------------------------------------------------------------------


# Extra roster columns other apps plug in (accounts imports none of them): callables
# (role, teachers of the page) -> (header, {teacher id: cell text}), one call per page, not per row.
ROSTER_COLUMNS: list = []


def _roster_search_post(request, role, schools):
    """The roster's search form posts, so that an ID number typed into it never reaches a URL.

    An ID number opens that teacher's record (when in scope); any other search becomes the
    usual filtered list (a GET without the ID number).
    """
    form = RosterFilterForm(request.POST, schools=schools)
    if not form.is_valid():
        return redirect("roster_list")
    data = form.cleaned_data
    q = (data.get("q") or "").strip()
    if q and id_number_error(q) is None:
        teacher = selectors.teachers_visible_to(role).filter(id_number=normalise_id_number(q)).first()
        if teacher is None:
            messages.error(request, _("没有找到该身份证号的教师。"))
            return redirect("roster_list")
        return redirect("teacher_detail", pk=teacher.pk)
    params = {name: (value.pk if hasattr(value, "pk") else value) for name, value in data.items() if value}
    return redirect(f"{reverse('roster_list')}?{urlencode(params)}" if params else reverse("roster_list"))


@login_required
def roster_list(request):
    role = require_role(request, *selectors.ROSTER_READERS)
    schools = None if role.kind in selectors.SCHOOL_ROLES else selectors.schools_visible_to(role)
    if request.method == "POST":
        return _roster_search_post(request, role, schools)
    form = RosterFilterForm(request.GET or None, schools=schools)
    qs = selectors.teachers_visible_to(role)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("q"):
            # Never by ID number here: a GET puts it in the URL and the access log (see _roster_search_post).
            q = data["q"].strip()
            qs = qs.filter(selectors.name_contains(q) | Q(cpd_number=q))
        for key in ("status", "stage", "subject"):
            if data.get(key):
                qs = qs.filter(**{key: data[key]})
        if data.get("school"):
            qs = qs.filter(school=data["school"])
        elif schools is not None and picker_text(request.GET, "school"):
            qs = qs.filter(school__name__icontains=picker_text(request.GET, "school"))
    else:
        qs = qs.filter(status=TeacherStatus.ACTIVE) if not request.GET else qs
    page = keyset_page(qs.order_by("school_id", "name", "pk"), request.GET.get("cursor"), 25)
    query = request.GET.copy()
    query.pop("cursor", None)
    extra = [column(role, list(page)) for column in ROSTER_COLUMNS]
    return render(
        request,
        "accounts/roster_list.html",
        {
            "form": form,
            "page": page,
            "rows": _roster_rows(page, extra),
            "extra_headers": [header for header, _ in extra],
            "query": query.urlencode(),
            "can_manage": selectors.can_manage_roster(role),
            "can_confirm": selectors.can_confirm_roster(role),
            "last_confirmation": role.organisation.roster_confirmations.first() if role.kind in selectors.SCHOOL_ROLES else None,
        },
    )


# A row of the roster (templates/accounts/roster_list.html), written here rather than in the template
# (cpd/rows.py): its 25 rows were half the page's CPU in Django's template engine (~1,100 Python calls a row).
_ROSTER_ROW = (
    '<tr>\n  <td class="card-head"><a href="{url}">{name}</a></td><td data-label="{l_id}">{id_number}</td>'
    '<td data-label="{l_cpd}">{cpd_number}</td>\n  <td data-label="{l_school}">{school}</td>'
    '<td data-label="{l_stage}">{stage}</td><td data-label="{l_subject}">{subject}</td>\n'
    '  <td data-label="{l_status}"><span class="badge {status}">{status_label}</span></td>{extra}</tr>\n'
)
_ROSTER_EXTRA_CELL = '<td data-label="{header}" data-testid="extra-cell">{cell}</td>'


def _roster_rows(page, extra: list[tuple[str, dict]]) -> list[SafeString]:
    """The roster's rows; `extra`: the other apps' columns, (header, {teacher id: cell text}) each (the header
    labels the cell on a phone)."""
    row = html_partial(
        _ROSTER_ROW,
        l_id=_("身份证号"),
        l_cpd=_("继续教育证号"),
        l_school=_("学校"),
        l_stage=_("学段"),
        l_subject=_("学科"),
        l_status=_("状态"),
    )
    url = url_format("teacher_detail")
    stage, subject, status = (page_display(Teacher, name) for name in ("stage", "subject", "status"))
    rows = []
    for t in page:
        extra_html = "".join(html_format(_ROSTER_EXTRA_CELL, header=h, cell=cells.get(t.pk, "")) for h, cells in extra)
        rows.append(
            html_format(
                row,
                url=url.format(t.pk),
                name=t.name,
                id_number=t.masked_id_number,
                cpd_number=t.cpd_number,
                school=t.school.name,
                stage=stage(t) or "—",
                subject=subject(t) or "—",
                status=t.status,
                status_label=status(t),
                extra=mark_safe(extra_html),
            )
        )
    return rows


@login_required
def teacher_add(request):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    form = TeacherAdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            teacher = services.teacher_create(role=role, school=role.organisation, data=form.cleaned_data, actor=request.user)
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            messages.success(
                request, _("已添加教师 %(name)s，继续教育证号 %(no)s。") % {"name": teacher.name, "no": teacher.cpd_number}
            )
            return redirect("teacher_detail", pk=teacher.pk)
    return render(request, "accounts/teacher_form.html", {"form": form, "title": _("添加教师")})


@login_required
def teacher_detail(request, pk: int):
    role = require_role(request, *selectors.ROSTER_READERS)
    teacher = _get_teacher_for_user(request, pk)
    events = teacher.events.select_related("from_school", "to_school", "actor")
    return render(
        request,
        "accounts/teacher_detail.html",
        {
            "teacher": teacher,
            "events": events,
            "missing": teacher.missing_required_fields(),
            "can_manage": selectors.can_manage_roster(role),
        },
    )


@login_required
def teacher_edit(request, pk: int):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    teacher = _get_teacher_for_user(request, pk)
    form = TeacherAdminForm(request.POST or None, instance=Teacher.objects.get(pk=teacher.pk))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.teacher_update(role=role, teacher=teacher, data=data, actor=request.user)
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("teacher_detail", pk=teacher.pk)
    return render(request, "accounts/teacher_form.html", {"form": form, "teacher": teacher, "title": _("编辑教师信息")})


@login_required
def teacher_transfer(request, pk: int):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    teacher = _get_teacher_for_user(request, pk)
    form = TransferForm(request.POST or None, targets=selectors.transfer_targets_for(role).select_related("parent"))
    if request.method == "POST" and form.is_valid():
        try:
            services.teacher_transfer(
                role=role,
                teacher=teacher,
                to_school=form.cleaned_data["to_school"],
                effective_date=form.cleaned_data["effective_date"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except StateConflict as exc:
            messages.error(request, exc.message)
            return redirect("teacher_detail", pk=teacher.pk)
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            target = form.cleaned_data["to_school"]
            messages.success(
                request,
                _("%(name)s 已调往 %(school)s。") % {"name": teacher.name, "school": target.name if target else _("本市以外")},
            )
            return redirect("roster_list")
    return render(
        request, "accounts/teacher_action.html", {"form": form, "teacher": teacher, "title": _("调动"), "action": "transfer"}
    )


def _status_view(service, title: str, done: str):
    @login_required
    def view(request, pk: int):
        role = require_role(request, *selectors.ROSTER_MANAGERS)
        teacher = _get_teacher_for_user(request, pk)
        form = StatusChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(role=role, teacher=teacher, actor=request.user, **form.cleaned_data)
            except StateConflict as exc:
                messages.error(request, exc.message)
                return redirect("teacher_detail", pk=teacher.pk)
            except ValidationError as exc:
                _apply_validation_error(form, exc)
            else:
                messages.success(request, done % {"name": teacher.name})
                return redirect("teacher_detail", pk=teacher.pk)
        return render(request, "accounts/teacher_action.html", {"form": form, "teacher": teacher, "title": title})

    return view


teacher_retire = _status_view(services.teacher_retire, "办理退休", "%(name)s 已标记为退休。")
teacher_leave = _status_view(services.teacher_leave, "办理离职", "%(name)s 已标记为离职。")


@login_required
@require_POST
def teacher_issue_login(request, pk: int):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    teacher = _get_teacher_for_user(request, pk)
    try:
        user, password = services.teacher_issue_login(role=role, teacher=teacher, actor=request.user)
    except (ValidationError, StateConflict) as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("teacher_detail", pk=teacher.pk)
    return render(request, "accounts/login_issued.html", {"teacher": teacher, "username": user.username, "password": password})


@login_required
@require_POST
def roster_confirm(request):
    role = require_role(request, *selectors.ROSTER_CONFIRMERS)
    confirmation = services.roster_confirm(role=role, actor=request.user)
    messages.success(request, _("已确认名册（在职教师 %(n)s 人）。") % {"n": confirmation.active_teachers})
    return redirect("roster_list")


# --- roster import -------------------------------------------------------------


@login_required
def roster_import_template(request):
    require_role(request, *selectors.ROSTER_MANAGERS)
    response = HttpResponse(
        importer.build_template(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response


@login_required
def roster_import_upload(request):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = importer.roster_import_upload(role=role, actor=request.user, uploaded=form.cleaned_data["file"])
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            return redirect("roster_import_detail", pk=record.pk)
    recent = selectors.roster_imports_visible_to(role)[:10]
    return render(request, "accounts/roster_import.html", {"form": form, "recent": recent})


@login_required
def roster_import_detail(request, pk: int):
    role = require_role(request, *selectors.ROSTER_MANAGERS)
    record = get_object_or_404(selectors.roster_imports_visible_to(role), pk=pk)
    if request.method == "POST":
        try:
            record = importer.roster_import_confirm(role=role, actor=request.user, roster_import=record)
        except (ValidationError, StateConflict) as exc:
            messages.error(request, " ".join(exc.messages))
            record.refresh_from_db()
        else:
            messages.success(request, _("已导入 %(n)s 名教师。") % {"n": record.imported_count})
            return redirect("roster_import_detail", pk=record.pk)
    errors = record.errors
    return render(
        request,
        "accounts/roster_import_detail.html",
        {
            "record": record,
            "errors": errors[:1000],
            "error_total": len(errors),
            "can_confirm": record.status == RosterImportStatus.VALIDATED,
        },
    )


# --- organisations -----------------------------------------------------------


ORGANISATIONS_PER_PAGE = 50


@login_required
def organisation_list(request):
    """The role's organisations in tree order, a page at a time (a city has 15,000 schools at 1,500,000
    teachers), each with its active teachers and, for a school, its latest roster confirmation."""
    role = require_role(request, *selectors.AREA_ROLES)
    cutoff = selectors.overdue_cutoff()
    only_overdue = request.GET.get("overdue") == "1"
    qs = selectors.organisations_visible_to(role).annotate(last_confirmed=selectors.last_confirmation())
    if only_overdue:
        qs = qs.filter(selectors.not_confirmed_since(cutoff), kind=OrgKind.SCHOOL, is_active=True)
    page = keyset_page(qs.order_by("path", "pk"), request.GET.get("cursor"), ORGANISATIONS_PER_PAGE, count=False)
    counts = selectors.teacher_counts_of(list(page))
    for org in page:
        org.teacher_count = counts[org.pk]
        org.depth = org.path.count("/") - role.organisation.path.count("/")
        org.overdue = org.kind == OrgKind.SCHOOL and org.is_active and (org.last_confirmed is None or org.last_confirmed < cutoff)
    query = request.GET.copy()
    query.pop("cursor", None)
    can_manage = selectors.can_manage_organisations(role)
    return render(
        request,
        "accounts/organisation_list.html",
        {
            "page": page,
            "rows": _organisation_rows(page, can_manage=can_manage),
            "query": query.urlencode(),
            "can_manage": can_manage,
            "only_overdue": only_overdue,
            "estimated": any(c.estimated for c in counts.values()),
        },
    )


# A row of the organisation list (templates/accounts/organisation_list.html), written here rather than in
# the template (cpd/rows.py): its 50 rows were three quarters of the page's CPU in Django's template engine.
_ORGANISATION_ROW = (
    '<tr>\n  <td style="padding-left:{indent}rem">{name}{inactive}</td>\n  <td>{code}</td><td>{kind}</td>\n  {count}\n'
    "  <td>{confirmed}</td>\n  {edit}\n</tr>"
)
_ESTIMATED_COUNT = '<td data-testid="count-{code}" data-estimated="1" title="{title}">{n}</td>\n  '
_EXACT_COUNT = '<td data-testid="count-{code}">{n}</td>'


def _organisation_rows(page, *, can_manage: bool) -> list[SafeString]:
    inactive = html_format(' <span class="badge">{label}</span>', label=_("停用"))
    never, overdue = escape(_("从未确认")), html_format(' <span class="badge overdue">{label}</span>', label=_("逾期"))
    as_of, about = _("统计于 %(date)s"), _("约 %(n)s")  # {% blocktrans %}: the message translated, the value escaped
    edit_url, edit_label = url_format("organisation_edit"), escape(_("编辑"))
    kind = page_display(Organisation, "kind")
    rows = []
    for o in page:
        count = o.teacher_count
        if count.estimated:
            date = escape(ymd(count.as_of))
            title, n = mark_safe(as_of % {"date": date}), mark_safe(about % {"n": shown(count.n)})
            count_cell = html_format(_ESTIMATED_COUNT, code=o.code, title=title, n=n)
        else:
            count_cell = html_format(_EXACT_COUNT, code=o.code, n=shown(count.n))
        confirmed = ""
        if o.kind == OrgKind.SCHOOL:
            last = escape(ymd(o.last_confirmed)) if o.last_confirmed else never
            confirmed = mark_safe(last + (overdue if o.overdue else ""))
        edit = ""
        if can_manage:
            link = html_format('<a href="{url}">{label}</a>', url=edit_url.format(o.pk), label=edit_label)
            edit = html_format("<td>{link}</td>", link=link if o.kind != OrgKind.CITY else "")
        rows.append(
            html_format(
                _ORGANISATION_ROW,
                indent=shown(o.depth + 1),
                name=o.name,
                inactive=inactive if not o.is_active else "",
                code=o.code,
                kind=kind(o),
                count=count_cell,
                confirmed=confirmed,
                edit=edit,
            )
        )
    return rows


@login_required
def organisation_form(request, pk: int | None = None):
    role = require_role(request, *selectors.ORGANISATION_MANAGERS)
    instance = get_object_or_404(selectors.organisations_visible_to(role), pk=pk) if pk else None
    if instance is not None and instance.kind == OrgKind.CITY:
        raise Http404
    parents = selectors.organisations_visible_to(role).exclude(kind=OrgKind.SCHOOL)
    form = OrganisationForm(request.POST or None, instance=instance, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            if instance is None:
                data = form.cleaned_data
                services.organisation_create(
                    role=role, name=data["name"], code=data["code"], kind=data["kind"], parent=data["parent"]
                )
            else:
                services.organisation_update(
                    role=role, organisation=Organisation.objects.get(pk=instance.pk), data=form.cleaned_data
                )
        except ValidationError as exc:
            _apply_validation_error(form, exc)
        else:
            messages.success(request, _("机构已保存。"))
            return redirect(reverse("organisation_list"))
    return render(request, "accounts/organisation_form.html", {"form": form, "instance": instance})


# --- pickers (search as you type) -------------------------------------------------------------

PICKER_LIMIT = 20


@login_required
def picker_schools(request):
    """Schools in the role's scope whose name or code matches `q`: at most 20, by code (an index walk)."""
    role = require_role(request, *selectors.ROSTER_READERS)
    q = request.GET.get("q", "").strip()[:50]
    if not q:
        return JsonResponse({"results": []})
    rows = (
        selectors.schools_visible_to(role)
        .filter(Q(name__icontains=q) | Q(code__startswith=q))
        .select_related("parent")
        .order_by("code")[:PICKER_LIMIT]
    )
    return JsonResponse(
        {"results": [{"id": s.pk, "label": f"{s.name}（{s.parent.name if s.parent else ''}）", "code": s.code} for s in rows]}
    )


@login_required
def picker_teachers(request):
    """Teachers in the role's scope by name (contains) or CPD number (exact): at most 20, masked IDs only."""
    role = require_role(request, *selectors.ROSTER_READERS)
    q = request.GET.get("q", "").strip()[:50]
    if not q:
        return JsonResponse({"results": []})
    rows = (
        selectors.teachers_visible_to(role)
        .filter(selectors.name_contains(q) | Q(cpd_number=q))
        .order_by("school_id", "name", "pk")[:PICKER_LIMIT]
    )
    return JsonResponse({"results": [{"id": t.pk, "label": f"{t.name}（{t.school.name}，{t.cpd_number}）"} for t in rows]})
