"""Browser pages: policies, runs, my results, results and exemptions, notice, complaints,
confirmations and finalisation, statistics with charts, exports."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import PickerWidget, picker_text
from accounts.models import Organisation, OrgKind, RoleKind, Teacher
from accounts.permissions import require_role
from accounts.selectors import AREA_ROLES, SCHOOL_ROLES, name_contains, teachers_visible_to
from accounts.templatetags.cpd_ui import hours
from cpd.bad_input import is_int_text
from cpd.choices import page_display
from cpd.errors import StateConflict
from cpd.pagination import keyset_page
from cpd.rows import html_format, html_partial, shown
from cpd.xlsx import XLSX_CONTENT_TYPE
from hours import ledger
from hours.models import Category, Declaration, Year
from hours.views import hours_context
from security.models import AuditEventKind
from security.services import audit_record

from . import exports, selectors, services
from .models import (
    CarryRule,
    ComplaintField,
    ComplaintState,
    Confirmation,
    Exemption,
    ExportStatus,
    Notice,
    ResultComplaint,
    ResultStatus,
    RunStatus,
    VerificationResult,
    VerificationRun,
    YearPolicy,
)
from .rules import judge

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PolicyForm(forms.ModelForm):
    declaration_deadline = forms.DateField(label=gettext_lazy("申报截止"), widget=DATE_WIDGET)
    school_review_deadline = forms.DateField(label=gettext_lazy("学校初审截止"), widget=DATE_WIDGET)
    district_review_deadline = forms.DateField(label=gettext_lazy("区复审截止"), widget=DATE_WIDGET)

    class Meta:
        model = YearPolicy
        fields = list(services.POLICY_FIELDS)


class RunForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年度"), min_value=2000, max_value=2100)
    district = forms.ModelChoiceField(
        label=gettext_lazy("范围"), queryset=Organisation.objects.none(), required=False, empty_label=gettext_lazy("全市")
    )


class CorrectionAddForm(forms.Form):
    """Hours that were missed, added while resolving a complaint."""

    category = forms.ChoiceField(label=gettext_lazy("类别"), choices=Category.choices)
    hours = forms.DecimalField(
        label=gettext_lazy("学时"),
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=services.MAX_CORRECTION_HOURS,
    )
    title = forms.CharField(label=gettext_lazy("名称"), max_length=200, required=False)
    reason = forms.CharField(label=gettext_lazy("更正原因"), max_length=500)


class CorrectionRevokeForm(forms.Form):
    entry = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = forms.CharField(label=gettext_lazy("更正原因"), max_length=500)


class ComplaintForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("对哪一项有异议"), choices=ComplaintField.choices)
    message = forms.CharField(label=gettext_lazy("说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


def _year(request, default: int | None = None) -> int:
    value = request.GET.get("year") or request.POST.get("year")
    if value and is_int_text(str(value)):
        return int(value)
    return default or timezone.localdate().year - 1


def _messages_from(request, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


# --- policies ---------------------------------------------------------------------------------------


@login_required
def policy_list(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    policies = list(YearPolicy.objects.all())
    years = Year.of_many([p.year for p in policies])
    for p in policies:
        p.deadlines = years.get(p.year)
    edit = request.GET.get("edit") or request.POST.get("year")
    form = None
    if edit and is_int_text(str(edit)):
        policy = get_object_or_404(YearPolicy, year=int(edit))
        year_obj = Year.of(policy.year)
        initial = {f: getattr(year_obj, f) for f in services.DEADLINE_FIELDS}
        form = PolicyForm(request.POST or None, instance=YearPolicy.objects.get(pk=policy.pk), initial=initial)
        if request.method == "POST" and "create" not in request.POST and form.is_valid():
            try:
                services.policy_update(role=role, actor=request.user, year=policy.year, data=form.cleaned_data)
            except (StateConflict, ValidationError) as exc:
                _messages_from(request, exc)
            else:
                messages.success(request, _("%(year)s年度的标准已保存。") % {"year": policy.year})
                return redirect("policy_list")
    if request.method == "POST" and "create" in request.POST:
        try:
            created = services.policy_create_next(role=role, actor=request.user, year=int(request.POST.get("new_year") or 0))
        except (StateConflict, ValidationError, ValueError) as exc:
            _messages_from(request, exc)
        else:
            messages.success(request, _("已按上一年度复制 %(year)s 年度的标准，请核对。") % {"year": created.year})
            return redirect(f"/verification/policies/?edit={created.year}")
        return redirect("policy_list")
    revisions = []
    if edit and is_int_text(str(edit)):
        revisions = YearPolicy.objects.get(year=int(edit)).revisions.select_related("actor")[:20]
    return render(
        request,
        "verification/policies.html",
        {
            "policies": policies,
            "form": form,
            "edit": edit,
            "revisions": revisions,
            "next_year": (max([p.year for p in policies]) + 1) if policies else timezone.localdate().year,
            "rules": CarryRule,
        },
    )


# --- runs ----------------------------------------------------------------------------------------------


@login_required
def run_list(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    form = RunForm(request.POST or None, initial={"year": timezone.localdate().year - 1})
    form.fields["district"].queryset = Organisation.objects.filter(
        parent=role.organisation, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.run_start(
                role=role,
                actor=request.user,
                year=form.cleaned_data["year"],
                district=form.cleaned_data["district"],
                # The two buttons: 试算 (provisional) or 正式验证 (final, refused before the last review deadline).
                provisional={"final": False, "provisional": True}.get(request.POST.get("kind", "")),
            )
        except (StateConflict, ValidationError) as exc:
            _messages_from(request, exc)
        else:
            messages.success(request, _("验证已开始（#%(id)s）。") % {"id": run.pk})
            return redirect("run_detail", pk=run.pk)
    runs = VerificationRun.objects.select_related("district", "started_by")[:30]
    year = timezone.localdate().year
    return render(
        request,
        "verification/runs.html",
        {
            "form": form,
            "runs": runs,
            # The years whose review is still open, with their deadline: their runs are provisional.
            "open_years": [(y, services.last_review_deadline(y)) for y in (year - 1, year)],
            "today": timezone.localdate(),
        },
    )


@login_required
def run_detail(request, pk: int):
    require_role(request, RoleKind.CITY_ADMIN)
    run = get_object_or_404(VerificationRun.objects.select_related("district"), pk=pk)
    # Only a finished run has done everything; an interrupted one shows how far it got.
    done = run.total if run.status == RunStatus.DONE else services.run_progress(run)
    percent = int(100 * done / run.total) if run.total else 100
    template = "verification/_run_progress.html" if request.headers.get("HX-Request") else "verification/run_detail.html"
    return render(request, template, {"run": run, "done": done, "percent": percent, "running": run.status == RunStatus.RUNNING})


# --- results ------------------------------------------------------------------------------------------------


@login_required
def my_results(request):
    role = require_role(request, RoleKind.TEACHER)
    teacher = teachers_visible_to(role).first()
    if teacher is None:
        raise Http404
    results = list(selectors.results_visible_to(role).order_by("-year"))
    policies = {p.year: p for p in YearPolicy.objects.filter(year__in=[r.year for r in results])}
    notices = {n.year: n for n in Notice.objects.filter(school=teacher.school, year__in=[r.year for r in results])}
    complaints = {}
    for c in (
        ResultComplaint.objects.filter(result__in=results)
        .select_related("result")
        .prefetch_related("corrections__entry__revokes")
    ):
        complaints.setdefault(c.result_id, []).append(c)
    for r in results:
        r.complaint_form = ComplaintForm(auto_id=f"complain-{r.year}-%s")  # ids unique per year on the page
        r.policy = policies.get(r.year)
        r.notice = notices.get(r.year)
        r.my_complaints = complaints.get(r.pk, [])
        r.open_year = r.policy is not None and not r.policy.is_finalised
        if r.open_year and r.status == ResultStatus.FAILED:
            r.pending = list(
                Declaration.objects.filter(teacher=teacher, year=r.year, state__in=ledger.PENDING_STATES).order_by("category")
            )
    return render(
        request,
        "verification/my_results.html",
        {"teacher": teacher, "results": results, "complaint_form": ComplaintForm(), "gap": _current_gap(teacher)},
    )


def _current_gap(teacher: Teacher) -> dict | None:
    """While this year is open: hours counted so far, still missing per category (`rules.judge` on
    `hours.ledger`'s figures, as the verification will count them), and the pending declarations beside them."""
    year = timezone.localdate().year
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None or policy.is_finalised:
        return None
    figures = ledger.teacher_year_figures(teacher_id=teacher.pk, year=year)
    verdict = judge(figures=figures, policy=policy)
    totals = figures.by_category()
    minimums = policy.minimums()
    waiting = ledger.pending_hours(year=year, teacher_ids=[teacher.pk])[teacher.pk]
    pending = list(Declaration.objects.filter(teacher=teacher, year=year, state__in=ledger.PENDING_STATES).order_by("category"))
    labels = dict(Category.choices)
    rows = [
        {
            "key": k,
            "label": labels.get(k, _("合计")),
            "have": totals[k],
            "minimum": minimums[k],
            "missing": verdict.shortfall[k],
            "pending": waiting[k],
        }
        for k in ("public", "professional", "elective", "total")
    ]
    return {"year": year, "rows": rows, "carry_in": figures.carry_in, "pending": pending, "complete": verdict.complete}


@login_required
@require_POST
def result_complain(request, year: int):
    role = require_role(request, RoleKind.TEACHER)
    form = ComplaintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择对哪一项有异议并说明理由。"))
    else:
        try:
            services.complaint_file(role=role, actor=request.user, year=year, **form.cleaned_data)
        except (StateConflict, ValidationError) as exc:
            _messages_from(request, exc)
        else:
            messages.success(request, _("异议已提交，区里处理后会通知您。"))
    return redirect("my_results")


@login_required
def result_list(request):
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    year = _year(request)
    # The runs (their provisional badge) by a second query: its outer join made the planner sort a deep
    # page's whole remainder instead of reading a page of the (year, school, teacher) index.
    qs = (
        selectors.results_visible_to(role)
        .select_related(None)
        .select_related("teacher", "school")
        .filter(year=year)
        .order_by("year", "school_id", "teacher_id")
    )
    status = request.GET.get("status")
    if status in ResultStatus.values:
        qs = qs.filter(status=status)
    school = request.GET.get("school")
    if school and is_int_text(school):
        qs = qs.filter(school_id=int(school))
    elif role.kind in AREA_ROLES and picker_text(request.GET, "school"):
        qs = qs.filter(school__name__icontains=picker_text(request.GET, "school"))
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(name_contains(q, "teacher__name") | Q(teacher__cpd_number=q))
    page = keyset_page(qs, request.GET.get("cursor"), 50, count=False)
    exempt = set(
        Exemption.objects.filter(year=year, teacher_id__in=[r.teacher_id for r in page]).values_list("teacher_id", flat=True)
    )
    trial_runs = set(
        VerificationRun.objects.filter(pk__in={r.run_id for r in page}, provisional=True).values_list("pk", flat=True)
    )
    # A search-as-you-type picker, not a select of every school of the city (2,000 options, 100 KB).
    picker = PickerWidget("picker_schools", placeholder=_("输入校名搜索")) if role.kind in AREA_ROLES else None
    school_picker = picker.render("school", school, attrs={"id": "id_school"}) if picker else ""
    query = request.GET.copy()
    query.pop("cursor", None)
    policy = YearPolicy.objects.filter(year=year).first()
    can_exempt = role.kind in AREA_ROLES
    exempt_form = can_exempt and not (policy is not None and policy.is_finalised)
    return render(
        request,
        "verification/results.html",
        {
            "provisional": selectors.year_is_provisional(role, year),
            "needs_rerun": selectors.complaints_needing_rerun(year=year, scope=selectors.complaints_visible_to(role)).count(),
            "page": page,
            "rows": _result_rows(
                page,
                year=year,
                exempt=exempt,
                trial_runs=trial_runs,
                can_exempt=can_exempt,
                exempt_form=exempt_form,
                request=request,
            ),
            "year": year,
            "status": status,
            "school_picker": school_picker,
            "picker_media": picker.media if picker else "",
            "school": school,
            "q": q,
            "can_exempt": can_exempt,
            "policy": policy,
            "statuses": ResultStatus.choices,
            "query": query.urlencode(),
        },
    )


# A row of the results table (templates/verification/results.html), written here rather than in the
# template (cpd/rows.py): Django's template engine spent two thirds of the page's CPU on its 50 rows
# (~1,300 Python calls a row: 27 variables, 6 tags, a blocktrans and a csrf tag).
_RESULT_ROW = (
    '<tr><td class="card-head">{name}</td><td data-label="{l_school}">{school}</td>'
    '<td data-label="{l_public}">{public}</td><td data-label="{l_prof}">{professional_own}</td>'
    '<td data-label="{l_carry}">{carry_in}</td><td data-label="{l_elective}">{elective}</td>'
    '<td data-label="{l_total}">{total}</td><td data-label="{l_result}"><span class="badge {badge}">{status}</span>'
    "{provisional}</td>"
    '<td data-label="{l_carry_out}">{carry_out}</td>\n{exempt}</tr>\n'
)
_RESULT_BADGE = {ResultStatus.PASSED: "active", ResultStatus.FAILED: "overdue"}
_EXEMPT_FORM = (
    '<td data-label="{l_exempt}"><form method="post" action="{action}" class="inline">{csrf}'
    '<input type="hidden" name="teacher" value="{teacher}"><input type="hidden" name="year" value="{year}">{button}</form></td>'
)
_UNEXEMPT = _EXEMPT_FORM.replace("{button}", '<button class="btn secondary" name="remove" value="1">{l_unexempt}</button>')
_EXEMPT = _EXEMPT_FORM.replace(
    "{button}",
    '<label class="sr-only" for="exempt-reason-{teacher}">{label}</label><input name="reason" id="exempt-reason-{teacher}" '
    'placeholder="{l_reason}" size="8" required><button class="btn secondary" data-testid="exempt-{teacher}">{l_exempt}</button>',
)


def _result_rows(
    page, *, year: int, exempt: set, trial_runs: set, can_exempt: bool, exempt_form: bool, request
) -> list[SafeString]:
    """The rows of the results table; `exempt`: the exempt teachers' ids, `trial_runs`: the provisional runs' ids,
    `can_exempt`: the exemption column, `exempt_form`: its form (an open year)."""
    row = html_partial(
        _RESULT_ROW,
        l_school=_("学校"),
        l_public=_("公需"),
        l_prof=_("专业（本年）"),
        l_carry=_("结转"),
        l_elective=_("选修"),
        l_total=_("总学时"),
        l_result=_("结果"),
        l_carry_out=_("结转下年"),
    )
    provisional = html_format(' <span class="badge provisional">{label}</span>', label=_("试算"))
    l_exempt, reason_label = _("免验"), _("%(name)s的免验原因")  # {% blocktrans %}: the message translated, the name escaped
    cell = html_format('<td data-label="{l_exempt}"></td>', l_exempt=l_exempt)
    if exempt_form:
        form = {
            "l_exempt": l_exempt,
            "action": reverse("exemption_toggle"),
            "csrf": html_format('<input type="hidden" name="csrfmiddlewaretoken" value="{token}">', token=get_token(request)),
            "year": shown(year),
        }
        unexempt = html_partial(_UNEXEMPT, l_unexempt=_("取消免验"), **form)
        reason = html_partial(_EXEMPT, l_reason=_("免验原因"), **form)
    status = page_display(VerificationResult, "status")
    rows = []
    for r in page:
        if not can_exempt:
            exempt_cell = ""
        elif not exempt_form:
            exempt_cell = cell
        elif r.teacher_id in exempt:
            exempt_cell = html_format(unexempt, teacher=shown(r.teacher_id))
        else:
            label = mark_safe(reason_label % {"name": escape(r.teacher.name)})
            exempt_cell = html_format(reason, teacher=shown(r.teacher_id), label=label)
        rows.append(
            html_format(
                row,
                name=r.teacher.name,
                school=r.school.name,
                public=hours(r.public),
                professional_own=hours(r.professional_own),
                carry_in=hours(r.carry_in),
                elective=hours(r.elective),
                total=hours(r.total),
                badge=_RESULT_BADGE.get(r.status, ""),
                status=status(r),
                provisional=provisional if r.run_id in trial_runs else "",
                carry_out=hours(r.carry_out),
                exempt=exempt_cell,
            )
        )
    return rows


@login_required
@require_POST
def exemption_toggle(request):
    role = require_role(request, *AREA_ROLES)
    teacher = get_object_or_404(teachers_visible_to(role), pk=request.POST.get("teacher"))
    year = _year(request)
    try:
        if request.POST.get("remove"):
            services.exemption_remove(role=role, teacher=teacher, year=year)
            messages.success(request, _("已取消 %(name)s 的免验。") % {"name": teacher.name})
        else:
            services.exemption_set(
                role=role, actor=request.user, teacher=teacher, year=year, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("已将 %(name)s 设为免验，重新验证后生效。") % {"name": teacher.name})
    except (StateConflict, ValidationError) as exc:
        _messages_from(request, exc)
    return redirect(f"/verification/results/?year={year}")


# --- notice, complaints, confirmations -------------------------------------------------------------------------


@login_required
def notice(request):
    role = require_role(request, *SCHOOL_ROLES, RoleKind.TEACHER)
    year = _year(request)
    school = role.organisation
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                services.notice_publish(role=role, actor=request.user, year=year)
                messages.success(request, _("已公示，公示期7天。"))
            elif action == "confirm":
                services.school_confirm(role=role, actor=request.user, year=year)
                messages.success(request, _("已确认上报本校结果。"))
        except (StateConflict, ValidationError) as exc:
            _messages_from(request, exc)
        return redirect(f"/verification/notice/?year={year}")
    n = Notice.objects.filter(school=school, year=year).first()
    if role.kind == RoleKind.TEACHER and n is None:
        results = []
    else:
        results = (
            VerificationResult.objects.filter(school=school, year=year).select_related("teacher", "run").order_by("teacher__name")
        )
    if request.GET.get("format") == "xlsx" and n is not None:
        rows = (
            [
                r.teacher.name,
                r.teacher.cpd_number,
                r.public,
                r.professional_own,
                r.carry_in,
                r.elective,
                r.total,
                r.get_status_display(),
                r.carry_out,
            ]
            for r in results
        )
        from cpd.xlsx import workbook_bytes

        response = HttpResponse(
            workbook_bytes(exports.RESULT_COLUMNS, list(rows), title=str(year)), content_type=XLSX_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="notice-{school.code}-{year}.xlsx"'
        return response
    return render(
        request,
        "verification/notice.html",
        {
            "year": year,
            "notice": n,
            "results": results,
            "school": school,
            "confirmation": Confirmation.objects.filter(organisation=school, year=year).first(),
            "open_complaints": ResultComplaint.objects.filter(notice=n, state=ComplaintState.OPEN).count() if n else 0,
            "is_teacher": role.kind == RoleKind.TEACHER,
            "provisional": role.kind != RoleKind.TEACHER and any(r.run_id and r.run.provisional for r in results),
        },
    )


@login_required
def complaint_list(request):
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    qs = selectors.complaints_visible_to(role).order_by("-created_at", "-pk")
    if request.method == "POST":
        complaint = get_object_or_404(qs, pk=_posted_id(request, "complaint"))
        try:
            services.complaint_resolve(
                role=role,
                actor=request.user,
                complaint=complaint,
                upheld=request.POST.get("decision") == "upheld",
                resolution=request.POST.get("resolution", ""),
            )
        except (StateConflict, ValidationError, PermissionDenied) as exc:
            _messages_from(request, exc)
        else:
            if request.POST.get("decision") == "upheld":
                messages.success(request, _("已记录：异议属实。请点该行的“更正学时”更正该教师的学时，更正后须重新验证该年度。"))
            else:
                messages.success(request, _("已记录处理结果。"))
        return redirect("result_complaints")
    # Newest first, 50 a page by keyset on (created_at, id), one state or all (the indexes of verification
    # 0010): the first 200 of the whole scope, sorted by state, hid the rest and rendered 200 rows.
    state = request.GET.get("state", "")
    if state in ComplaintState.values:
        qs = qs.filter(state=state)
    page = keyset_page(qs.prefetch_related("corrections__entry__revokes"), request.GET.get("cursor"), 50, count=False)
    return render(
        request,
        "verification/complaints.html",
        {
            "complaints": page,
            "page": page,
            "state": state if state in ComplaintState.values else "",
            "states": ComplaintState.choices,
            "query": f"state={state}" if state in ComplaintState.values else "",
            "can_resolve": role.kind == RoleKind.DISTRICT_ADMIN,
            # The district and the city correct hours from the complaint (services.complaint_correct).
            "can_correct": role.kind in services.COMPLAINT_CORRECTORS,
        },
    )


@login_required
def complaint_correct(request, pk: int):
    """The complaint's teacher's hours of the complaint's year, with the correction controls: revoke an
    entry or add missed hours, each with a reason, linked to the complaint (`services.complaint_correct`)."""
    role = require_role(request, *services.COMPLAINT_CORRECTORS)
    complaint = get_object_or_404(selectors.complaints_visible_to(role).prefetch_related("corrections__entry__revokes"), pk=pk)
    refusal = ""
    try:
        services.complaint_correctable(role=role, complaint=complaint)
    except StateConflict as exc:
        refusal = exc.message  # shown on the page, with the hours read-only
    add_form = CorrectionAddForm(prefix="add")
    revoke_error = ""
    if request.method == "POST":
        if refusal:
            raise PermissionDenied(refusal)
        if request.POST.get("action") == "revoke":
            form = CorrectionRevokeForm(request.POST)
            if not form.is_valid():
                revoke_error = _("撤销须选择一条记录并填写更正原因。")
            else:
                try:
                    services.complaint_correct(
                        role=role,
                        actor=request.user,
                        complaint=complaint,
                        reason=form.cleaned_data["reason"],
                        revokes=form.cleaned_data["entry"],
                    )
                except (StateConflict, ValidationError) as exc:
                    revoke_error = " ".join(exc.messages)
                else:
                    messages.success(request, _("已撤销该学时记录，并记入该异议的处理。"))
                    return redirect("complaint_correct", pk=complaint.pk)
        else:
            add_form = CorrectionAddForm(request.POST, prefix="add")
            if add_form.is_valid():
                try:
                    services.complaint_correct(role=role, actor=request.user, complaint=complaint, **add_form.cleaned_data)
                except ValidationError as exc:
                    _form_errors(add_form, exc)
                except StateConflict as exc:
                    add_form.add_error(None, exc.message)
                else:
                    messages.success(request, _("已补登学时，并记入该异议的处理。"))
                    return redirect("complaint_correct", pk=complaint.pk)
    context = hours_context(complaint.result.teacher, complaint.result.year)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "verification/complaint_correct.html",
        {
            **context,
            "complaint": complaint,
            "can_correct": not refusal,
            "refusal": refusal,
            "add_form": add_form,
            "revoke_error": revoke_error,
        },
        status=status,
    )


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc)


@login_required
def confirmations(request):
    role = require_role(request, *AREA_ROLES)
    year = _year(request)
    if request.method == "POST":
        try:
            if role.kind == RoleKind.CITY_ADMIN:
                services.year_finalise(role=role, actor=request.user, year=year)
                messages.success(request, _("%(year)s年度已定稿并锁定。") % {"year": year})
            else:
                services.district_confirm(role=role, actor=request.user, year=year)
                messages.success(request, _("已确认本区结果。"))
        except (StateConflict, ValidationError) as exc:
            _messages_from(request, exc)
        return redirect(f"/verification/confirmations/?year={year}")
    confirmed = {c.organisation_id: c for c in Confirmation.objects.filter(year=year).select_related("confirmed_by")}
    notices = {n.school_id: n for n in Notice.objects.filter(year=year)}
    if role.kind == RoleKind.CITY_ADMIN:
        units = list(
            Organisation.objects.filter(parent=role.organisation, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]).order_by(
                "code"
            )
        )
    else:
        units = list(Organisation.objects.filter(parent=role.organisation, kind=OrgKind.SCHOOL).order_by("code"))
    for u in units:
        u.confirmation = confirmed.get(u.pk)
        u.notice = notices.get(u.pk)
    return render(
        request,
        "verification/confirmations.html",
        {
            "year": year,
            "units": units,
            "own": confirmed.get(role.organisation_id),
            "policy": YearPolicy.objects.filter(year=year).first(),
            "is_city": role.kind == RoleKind.CITY_ADMIN,
        },
    )


# --- statistics and exports -----------------------------------------------------------------------------------------


STATISTICS_UNITS_PER_PAGE = 100


@login_required
def statistics(request):
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    year = _year(request)
    # A district's schools a page at a time (3,000 at 1,500,000 teachers); the totals are the whole scope's.
    page = keyset_page(selectors.statistics_units(role), request.GET.get("cursor"), STATISTICS_UNITS_PER_PAGE, count=False)
    rows = selectors.statistics_by_unit(role, year, units=list(page))
    total = selectors.statistics_total(role, year)
    trend = selectors.statistics_trend(role)
    chart = {
        "units": [r["unit"].name for r in rows],
        "pass_rate": [float(r["pass_rate"] or 0) for r in rows],
        "trend_years": [r["year"] for r in trend],
        "trend_rate": [float(r["pass_rate"] or 0) for r in trend],
        "trend_verified": [r["verified"] for r in trend],
        "categories": [str(label) for _v, label in Category.choices],
        "category_hours": [float(total["public"]), float(total["professional"]), float(total["elective"])],
    }
    return render(
        request,
        "verification/statistics.html",
        {
            "provisional": selectors.year_is_provisional(role, year),
            "year": year,
            "rows": rows,
            "table_rows": _statistics_rows(rows),
            "page": page,
            "query": urlencode({"year": year}),
            "total": total,
            "trend": trend,
            # A dict: the template's json_script encodes it once (json.dumps here made it a JSON string
            # inside JSON, and the charts drew axes with no bars).
            "chart": chart,
            "years": sorted({r["year"] for r in trend} | {year}, reverse=True),
        },
    )


# A row of the statistics table (templates/verification/statistics.html), written here rather than in the
# template (cpd/rows.py): a district's 100 schools were two thirds of the page's CPU in Django's template engine.
_STATISTICS_ROW = (
    "<tr><td>{name}</td><td>{teachers}</td><td>{verified}</td><td>{passed}</td><td>{failed}</td><td>{exempt}</td>"
    "<td>{rate}</td><td>{public}</td><td>{professional}</td><td>{elective}</td></tr>"
)


def _statistics_rows(rows: list[dict]) -> list[SafeString]:
    """A unit without figures has only its name and teachers: blank, as the template left a missing key."""
    return [
        html_format(
            _STATISTICS_ROW,
            name=r["unit"].name,
            teachers=shown(r.get("teachers", "")),
            verified=shown(r.get("verified") or 0),
            passed=shown(r.get("passed") or 0),
            failed=shown(r.get("failed") or 0),
            exempt=shown(r.get("exempt") or 0),
            rate=f"{shown(r['pass_rate'])}%" if r.get("pass_rate") is not None else "—",
            public=hours(r.get("public", "")),
            professional=hours(r.get("professional", "")),
            elective=hours(r.get("elective", "")),
        )
        for r in rows
    ]


@login_required
def export_list(request):
    role = require_role(request, *SCHOOL_ROLES, *AREA_ROLES)
    if request.method == "POST":
        try:
            job = exports.export_request(role=role, actor=request.user, kind=request.POST.get("kind", ""), year=_year(request))
        except ValidationError as exc:  # a role that may not export this kind gets 403 (PermissionDenied is not caught)
            _messages_from(request, exc)
        else:
            messages.success(
                request,
                _("导出任务已创建，生成后可在下方下载。") if job.status == ExportStatus.PENDING else _("导出文件已生成。"),
            )
        return redirect("export_list")
    jobs = exports.exports_visible_to(role)[:20]
    running = any(j.status == ExportStatus.PENDING for j in jobs)
    template = "verification/_export_table.html" if request.headers.get("HX-Request") else "verification/exports.html"
    return render(
        request, template, {"jobs": jobs, "running": running, "is_city": role.kind == RoleKind.CITY_ADMIN, "year": _year(request)}
    )


@login_required
def export_download(request, pk: int):
    role = require_role(request)
    job = get_object_or_404(exports.exports_visible_to(role), pk=pk, status=ExportStatus.READY)
    content_type = exports.content_type_of(job.filename)
    audit_record(
        event=AuditEventKind.EXPORT,
        request=request,
        obj=job,
        details={"kind": job.kind, "download": True, "full_id_numbers": job.kind.startswith("provincial")},
    )
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.filename, content_type=content_type)


def _posted_id(request, name: str) -> int:
    """The id a form posted; anything but digits is a 404 like an unknown id, never a 500."""
    value = request.POST.get(name, "")
    if not is_int_text(value):
        raise Http404
    return int(value)
