"""Browser pages: my hours, declarations, the two review queues, evidence, notifications, years."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import RoleKind, Teacher
from accounts.permissions import require_role
from accounts.templatetags.cpd_ui import hours
from cpd.bad_input import is_int_text
from cpd.choices import page_display
from cpd.db import serial_plans
from cpd.errors import StateConflict
from cpd.i18n import translate_stored
from cpd.pagination import keyset_page
from cpd.rows import html_format, html_partial, shown, url_format, ymd

from . import ledger, selectors, services
from .forms import CorrectionForm, DeclarationFilterForm, DeclarationForm, QueueFilterForm, ReviewForm, YearForm, review_forms
from .models import Category, Declaration, EvidenceKind, LedgerEntry, Notification, Source, StagedUpload, Year


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        form.add_error(None, exc)


# --- hours bank ---------------------------------------------------------------------


def hours_context(teacher: Teacher, year: int) -> dict:
    """The teacher's figures as verification counts them (`hours.ledger`), the entries listed with the reason
    any of them does not count, and pending declarations beside the figures, never in them. In the cycle
    regime the cycle's figures replace the annual ones (no annual minimum is shown)."""
    entries: list[Any] = list(
        LedgerEntry.objects.filter(teacher=teacher, year=year)
        .select_related("declaration", "revokes")
        .annotate(is_revoked=selectors.has_revoking_entry())
        .order_by("created_at", "pk")
    )
    counted = ledger.counted_entry_ids(year=year, teacher_id=teacher.pk)
    for e in entries:
        e.not_counted = _not_counted_reason(e, counted)
    context = {
        "teacher": teacher,
        "year": year,
        "years": selectors.years_with_entries(teacher.pk),
        "entries": entries,
        "period": ledger.period_summary(teacher),
    }
    pending = ledger.pending_hours(year=year, teacher_ids=[teacher.pk])[teacher.pk]
    context["pending"] = pending
    if context["period"] is not None:
        return context
    figures = ledger.teacher_year_figures(teacher_id=teacher.pk, year=year)
    minimums = selectors.year_minimums(year)
    have = figures.by_category()
    labels = {**dict(Category.choices), "total": _("合计")}
    bars = [_bar(labels[k], have[k], minimums.get(k) if minimums else None, pending[k]) for k in have]
    return {
        **context,
        "figures": figures,
        "bars": bars,
        "has_policy": minimums is not None,
        "open_year": not Year.objects.filter(year=year, locked_at__isnull=False).exists(),
    }


def _not_counted_reason(entry: Any, counted: set[int]) -> str:
    """Why a listed entry adds nothing to the figures ('' when it counts)."""
    if entry.pk in counted:
        return ""
    if entry.source == Source.CARRY_OVER:
        return _("已作为上年结转计入专业科目")
    if entry.revokes_id is not None or entry.is_revoked:
        return _("已撤销，不计入")
    if entry.category == Category.PUBLIC:
        return _("同一公需科目专题只计一次")
    return _("不计入")


def _bar(label, value: Decimal, minimum: Decimal | None, pending: Decimal) -> dict:
    percent = min(100, int(value * 100 / minimum)) if minimum else None
    return {
        "label": label,
        "value": value,
        "minimum": minimum,
        "percent": percent,
        "met": minimum is not None and value >= minimum,
        "pending": pending,
    }


def _year_param(request) -> int:
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


@login_required
def my_hours(request):
    role = require_role(request, RoleKind.TEACHER)
    teacher = account_selectors.teachers_visible_to(role).first()
    if teacher is None:
        raise Http404
    context = hours_context(teacher, _year_param(request))
    context["ledger_rows"] = _ledger_rows(context["entries"], own=True, can_correct=False, request=request)
    return render(request, "hours/my_hours.html", {**context, "own": True})


@login_required
def teacher_hours(request, pk: int):
    role = require_role(request, *account_selectors.ROSTER_READERS)
    teacher = get_object_or_404(account_selectors.teachers_visible_to(role), pk=pk)
    context = hours_context(teacher, _year_param(request))
    context["can_correct"] = role.kind == RoleKind.CITY_ADMIN
    context["correction_form"] = CorrectionForm()
    context["ledger_rows"] = _ledger_rows(context["entries"], own=False, can_correct=context["can_correct"], request=request)
    return render(request, "hours/my_hours.html", context)


# A row of the hours page's ledger table (templates/hours/my_hours.html), written here rather than in the
# template (cpd/rows.py): Django's template engine spent ~800 Python calls a row on it.
_LEDGER_ROW = (
    '<tr>\n  <td data-label="{l_date}">{dates}</td>\n  <td class="card-head">{title}{declaration}{reason}</td>\n'
    '  <td data-label="{l_organiser}">{organiser}{project}</td><td data-label="{l_category}">{category}</td>'
    '<td data-label="{l_source}">{source}</td><td data-label="{l_hours}">{hours}{not_counted}</td>\n  {correct}\n</tr>'
)
_REVOKE_FORM = (
    '<form method="post" action="{url}" class="inline">{csrf}<input name="reason" required placeholder="{l_reason}" size="10">'
    '<button class="btn secondary" type="submit">{l_revoke}</button></form>'
)


def _ledger_rows(entries, *, own: bool, can_correct: bool, request) -> list[SafeString]:
    """The ledger table's rows; `own`: the teacher's page (a registration may be complained about),
    `can_correct`: the city's revoke form."""
    row = html_partial(
        _LEDGER_ROW,
        l_date=_("日期"),
        l_organiser=_("主办单位"),
        l_category=_("类别"),
        l_source=_("来源"),
        l_hours=_("学时"),
    )
    declaration_url, project_url, complaint_url, revoke_url = (
        url_format(name) for name in ("declaration_detail", "project_detail", "complaint_new", "ledger_revoke")
    )
    l_project, l_complain = escape(_("项目详情")), escape(_("有异议"))
    if can_correct:
        csrf = html_format('<input type="hidden" name="csrfmiddlewaretoken" value="{token}">', token=get_token(request))
        revoke = html_partial(_REVOKE_FORM, csrf=csrf, l_reason=_("更正原因"), l_revoke=_("撤销"))
        l_correct = escape(_("更正"))
    category, source = page_display(LedgerEntry, "category"), page_display(LedgerEntry, "source")
    rows = []
    for e in entries:
        if e.start_date:
            dates = ymd(e.start_date)
            if e.end_date and e.end_date != e.start_date:
                dates += " ~ " + ymd(e.end_date)
        else:
            dates = ymd(e.created_at)
        declaration = reason = project = not_counted = correct = ""
        if e.declaration_id:
            declaration = html_format(
                ' <a href="{url}">#{n}</a>', url=declaration_url.format(e.declaration_id), n=shown(e.declaration_id)
            )
        if e.reason:
            reason = html_format('<br><small class="muted">{reason}</small>', reason=e.reason)
        if e.project_id:
            project = html_format('<br><a href="{url}">{label}</a>', url=project_url.format(e.project_id), label=l_project)
            if own and e.source == Source.REGISTRATION:
                complain = '{project} · <a href="{url}" data-testid="complain-{pk}">{label}</a>'
                project = html_format(complain, project=project, url=complaint_url.format(e.pk), pk=shown(e.pk), label=l_complain)
        if e.not_counted:
            not_counted = html_format(
                '<br><small class="muted" data-testid="not-counted-{pk}">{why}</small>', pk=shown(e.pk), why=e.not_counted
            )
        if can_correct:
            form = "" if e.revokes_id else html_format(revoke, url=revoke_url.format(e.pk))
            correct = html_format('<td data-label="{label}">{form}</td>', label=l_correct, form=form)
        rows.append(
            html_format(
                row,
                dates=dates,
                title=translate_stored(str(e.title)) if e.title is not None else "",
                declaration=declaration,
                reason=reason,
                organiser=e.organiser,
                project=project,
                category=category(e),
                source=source(e),
                hours=hours(e.hours),
                not_counted=not_counted,
                correct=correct,
            )
        )
    return rows


@login_required
@require_POST
def ledger_revoke(request, pk: int):
    role = require_role(request, RoleKind.CITY_ADMIN)
    entry = get_object_or_404(selectors.ledger_visible_to(role), pk=pk)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("更正必须填写原因。"))
    else:
        try:
            services.ledger_correction(role=role, actor=request.user, reason=form.cleaned_data["reason"], revokes=entry)
        except (StateConflict, ValidationError) as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已撤销该学时记录。"))
    return redirect(f"{_url('teacher_hours', entry.teacher_id)}?year={entry.year}")


def _url(name, *args):
    from django.urls import reverse

    return reverse(name, args=args)


# --- declarations (teacher) ---------------------------------------------------------------


@login_required
def declaration_list(request):
    role = require_role(request, RoleKind.TEACHER)
    form = DeclarationFilterForm(request.GET or None)
    qs = selectors.declarations_visible_to(role).order_by("-updated_at", "-pk")
    if form.is_valid() and form.cleaned_data.get("state"):
        qs = qs.filter(state=form.cleaned_data["state"])
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "hours/declaration_list.html", {"page": page, "form": form})


def _files_from(request) -> list[tuple[str, object]]:
    files = []
    for kind in EvidenceKind.values:
        for f in request.FILES.getlist(kind):
            files.append((kind, f))
    return files


KEPT_GONE = gettext_lazy("保留的文件已失效，请重新选择。")


def _kept_uploads(request) -> tuple[list[StagedUpload], dict[str, list[str]]]:
    """The files kept from an earlier try of the form (hidden `kept_<kind>` ids), less those ticked 移除
    (dropped now), and a problem beside the field for an id that is not the user's or no longer kept."""
    dropped = [int(x) for x in request.POST.getlist("remove_kept") if is_int_text(x)]
    if dropped:
        services.staged_uploads_discard(owner=request.user, ids=dropped)
    wanted: dict[str, list[int]] = {}
    problems: dict[str, list[str]] = {}
    for kind in EvidenceKind.values:
        for value in request.POST.getlist(f"kept_{kind}"):
            if not is_int_text(value):
                problems[kind] = [str(KEPT_GONE)]
            elif int(value) not in dropped:
                wanted.setdefault(kind, []).append(int(value))
    rows = {
        s.pk: s for s in StagedUpload.objects.filter(owner=request.user, pk__in=[pk for ids in wanted.values() for pk in ids])
    }
    kept: list[StagedUpload] = []
    for kind, ids in wanted.items():
        for pk in dict.fromkeys(ids):
            row = rows.get(pk)
            if row is None or row.kind != kind:
                problems[kind] = [str(KEPT_GONE)]
            else:
                kept.append(row)
    return kept, problems


def _keep_files(request, good_files, room: int) -> tuple[list[StagedUpload], list[str]]:
    """Keep the chosen files that passed their checks while the form is fixed; (kept, names not kept)."""
    kept: list[StagedUpload] = []
    not_kept: list[str] = []
    for kind, uploaded in good_files:
        if len(kept) >= room:
            not_kept.append(getattr(uploaded, "name", ""))
            continue
        uploaded.seek(0)
        try:
            kept.append(services.staged_upload_create(owner=request.user, kind=kind, uploaded=uploaded))
        except ValidationError:
            not_kept.append(getattr(uploaded, "name", ""))
    return kept, not_kept


@login_required
def declaration_form(request, pk: int | None = None):
    role = require_role(request, RoleKind.TEACHER)
    teacher = account_selectors.teachers_visible_to(role).first()
    if teacher is None:
        raise Http404
    missing_fields = teacher.missing_required_fields()
    if missing_fields:
        messages.warning(request, _("申报前请先填写个人信息：%(fields)s。") % {"fields": "、".join(missing_fields)})
        return redirect("my_record")
    declaration = get_object_or_404(selectors.declarations_visible_to(role), pk=pk) if pk else None
    if declaration is not None and not declaration.is_editable:
        messages.error(request, _("该申报当前不能修改。"))
        return redirect("declaration_detail", pk=declaration.pk)
    form = DeclarationForm(request.POST or None, instance=Declaration.objects.get(pk=pk) if pk else None)
    evidence_errors: dict[str, list[str]] = {}
    unsaved_files: list[str] = []
    kept: list[StagedUpload] = []
    remove: list[int] = []
    if request.method == "POST":
        submit = "submit" in request.POST
        files = _files_from(request)
        remove = [int(x) for x in request.POST.getlist("remove_evidence") if is_int_text(x)]
        # Files chosen on an earlier try and kept by the server count as chosen for their field.
        kept, kept_problems = _kept_uploads(request)
        # Every problem at once, beside its field: the form's own (fields and the model's rules), each
        # chosen file's, and, when submitting, the evidence the answers about the certificate require.
        file_problems, missing, good_files = _evidence_problems(form, declaration, files, remove, submit, kept)
        for kind, errors in kept_problems.items():
            file_problems.setdefault(kind, []).extend(errors)
        evidence_errors = {k: file_problems.get(k, []) + missing.get(k, []) for k in {*file_problems, *missing}}
        if form.is_valid() and not file_problems:
            data = {f: form.cleaned_data[f] for f in services.DECLARATION_FIELDS}
            try:
                decl = services.declaration_save(
                    role=role,
                    actor=request.user,
                    data=data,
                    files=files,
                    staged_ids=[k.pk for k in kept],
                    remove_evidence_ids=remove,
                    declaration=declaration,
                    # Evidence still missing: keep what was typed and chosen as a draft, say what is missing.
                    submit=submit and not missing,
                )
            except StateConflict as exc:
                form.add_error(None, exc.message)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if not missing:
                    messages.success(request, _("申报已提交，等待学校初审。") if submit else _("草稿已保存。"))
                    return redirect("declaration_detail", pk=decl.pk)
                messages.warning(request, _("已保存为草稿（含您选择的文件），还不能提交：请补齐下面标出的材料。"))
                declaration = decl
                files, good_files, kept, remove = [], [], [], []  # stored now: listed with the declaration's files
                form = DeclarationForm(request.POST, instance=Declaration.objects.get(pk=decl.pk))
                form.is_valid()
        if good_files:
            # The browser cannot put chosen files back into a form: the server keeps the good ones for
            # the next try (a bad one is named beside its field), as many as the declaration may hold.
            still_stored = declaration.evidence.exclude(pk__in=remove).count() if declaration else 0
            room = max(0, services.MAX_EVIDENCE_FILES - still_stored - len(kept))
            newly_kept, unsaved_files = _keep_files(request, good_files, room)
            kept += newly_kept
    stored = list(declaration.evidence.all()) if declaration else []
    in_chinese, states_hours = _certificate_answers(form, declaration)
    return render(
        request,
        "hours/declaration_form.html",
        {
            "form": form,
            "declaration": declaration,
            "evidence": stored,
            "evidence_inputs": [
                {
                    "kind": value,
                    "label": label,
                    "stored": [ev for ev in stored if ev.kind == value],
                    "kept": [k for k in kept if k.kind == value],
                    "errors": evidence_errors.get(value, []),
                    # Shown only when the answers about the certificate call for it (ui.js follows the radios).
                    "show_when": {
                        "translation": "certificate_in_chinese=False",
                        "hours_statement": "certificate_states_hours=False",
                    }.get(value, ""),
                    "hidden": (value == EvidenceKind.TRANSLATION and in_chinese)
                    or (value == EvidenceKind.HOURS_STATEMENT and states_hours),
                }
                for value, label in EvidenceKind.choices
            ],
            "evidence_general_errors": evidence_errors.get("files", []),
            "unsaved_files": unsaved_files,
            # A stored file ticked for removal stays ticked when the form comes back.
            "removing": set(remove),
        },
    )


def _certificate_answers(form, declaration) -> tuple[bool, bool]:
    """The two answers about the certificate as the page shows them (posted, stored or the defaults)."""

    def answer(name: str) -> bool:
        if form.is_bound:
            return form.data.get(name, "True") in ("True", "true", "1")
        return getattr(declaration, name) if declaration is not None else True

    return answer("certificate_in_chinese"), answer("certificate_states_hours")


def _evidence_problems(
    form, declaration, files, remove, submit, kept
) -> tuple[dict[str, list[str]], dict[str, list[str]], list[tuple[str, Any]]]:
    """(each chosen file's own problems, the evidence still missing for submitting, the chosen files that
    passed their checks), problems by evidence kind. Files kept from an earlier try count as chosen.

    Missing evidence does not stop a draft from being saved with the files that were chosen; a bad file does.
    """
    problems: dict[str, list[str]] = {}
    good: list[tuple[str, Any]] = []
    for kind, uploaded in files:
        try:
            services.check_evidence_file(uploaded)
        except ValidationError as exc:
            problems.setdefault(kind, []).extend(exc.messages)
        else:
            good.append((kind, uploaded))
        finally:
            uploaded.seek(0)
    stored = list(declaration.evidence.exclude(pk__in=remove)) if declaration else []
    if len(files) + len(stored) + len(kept) > services.MAX_EVIDENCE_FILES:
        problems.setdefault("files", []).append(_("每份申报最多上传5个文件。"))
    missing: dict[str, list[str]] = {}
    if submit:
        in_chinese, states_hours = _certificate_answers(form, declaration)
        probe = Declaration(certificate_in_chinese=in_chinese, certificate_states_hours=states_hours)
        have = {kind for kind, _f in good} | {ev.kind for ev in stored} | {k.kind for k in kept}
        text = {
            EvidenceKind.CERTIFICATE: _("请上传证书原件的扫描件或照片。"),
            EvidenceKind.TRANSLATION: _("证书不是中文的，请上传学校盖章的中文翻译件。"),
            EvidenceKind.HOURS_STATEMENT: _("证书未注明学时，请上传学校盖章的学时证明。"),
        }
        missing = {k: [text[k]] for k in probe.required_evidence_kinds() if k not in have}
    return problems, missing, good


@login_required
def declaration_detail(request, pk: int):
    role = require_role(request)
    decl = get_object_or_404(selectors.declarations_visible_to(role).prefetch_related("evidence"), pk=pk)
    events = decl.events.select_related("actor")
    level = selectors.review_level(role)
    can_review = level is not None and decl.state == selectors.QUEUE_STATE[level]
    decl.review_form = ReviewForm(auto_id=f"review-{decl.pk}-%s")  # type: ignore[attr-defined]  # carried to the template
    decl.review_errors = request.session.pop(REVIEW_ERRORS_KEY, {}).get(str(decl.pk), {}).get("errors", [])  # type: ignore[attr-defined]
    return render(
        request,
        "hours/declaration_detail.html",
        {
            "d": decl,
            "events": events,
            "can_review": can_review,
            "is_owner": role.kind == RoleKind.TEACHER,
            "year_obj": Year.of(decl.year),
        },
    )


@login_required
@require_POST
def declaration_submit(request, pk: int):
    role = require_role(request, RoleKind.TEACHER)
    decl = get_object_or_404(selectors.declarations_visible_to(role), pk=pk)
    try:
        services.declaration_transition(declaration_id=decl.pk, action="submit", role=role, actor=request.user)
    except (StateConflict, ValidationError) as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("申报已提交，等待学校初审。"))
    return redirect("declaration_detail", pk=decl.pk)


@login_required
@require_POST
def declaration_withdraw(request, pk: int):
    role = require_role(request, RoleKind.TEACHER)
    decl = get_object_or_404(selectors.declarations_visible_to(role), pk=pk)
    try:
        services.declaration_withdraw(declaration_id=decl.pk, role=role, actor=request.user)
    except (StateConflict, ValidationError) as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("申报已撤回，现为草稿；修改后可重新提交。"))
    return redirect("declaration_detail", pk=decl.pk)


# --- review ----------------------------------------------------------------------------


REVIEW_ERRORS_KEY = "review_errors"


@login_required
def review_queue(request):
    role = require_role(request, *selectors.REVIEWERS)
    level = selectors.review_level(role)
    counts = selectors.queue_counts(role, level)
    form = QueueFilterForm(request.GET or None, years=sorted(counts))
    qs = selectors.review_queue(role, level)
    if form.is_valid():
        data = form.cleaned_data
        if data.get("year"):
            qs = qs.filter(year=data["year"])
        if data.get("category"):
            qs = qs.filter(category=data["category"])
        if data.get("activity_type"):
            qs = qs.filter(activity_type=data["activity_type"])
        if data.get("q"):
            qs = qs.filter(account_selectors.name_contains(data["q"], "teacher__name") | Q(teacher__cpd_number=data["q"]))
        if data.get("duplicates"):
            qs = qs.exclude(duplicate_flags=[])
    # The queue's total is the per-year counts above: no second count of the same join. A name search walks
    # the queue keeping the teacher's matches: one walk, not two in parallel (`cpd.db.serial_plans`).
    with serial_plans() if form.is_valid() and form.cleaned_data.get("q") else nullcontext():
        page = keyset_page(qs, request.GET.get("cursor"), 20, count=False)
    deadline_field = "school_review_deadline" if level == "school" else "district_review_deadline"
    years = Year.of_many(list(counts))
    deadlines = [
        {
            "year": y,
            "count": min(n, selectors.QUEUE_COUNT_CAP),
            "more": n > selectors.QUEUE_COUNT_CAP,
            "deadline": getattr(years[y], deadline_field),
            "days_left": selectors.days_left(getattr(years[y], deadline_field)),
        }
        for y, n in sorted(counts.items())
        if y in years
    ]
    total, total_more = selectors.counts_capped(counts)
    query = request.GET.copy()
    query.pop("cursor", None)
    # A refused action is shown beside its own item (the redirect carries it in the session), and each
    # item's form has its own ids so that every label points at its own control.
    item_errors = request.session.pop(REVIEW_ERRORS_KEY, {})
    forms_html = review_forms(
        [(d.pk, item_errors.get(str(d.pk), {}).get("data"), item_errors.get(str(d.pk), {}).get("errors", [])) for d in page],
        next_url=request.get_full_path(),
        csrf_token=get_token(request),
    )
    for d in page:
        d.review_html = forms_html[d.pk]
    return render(
        request,
        "hours/review_queue.html",
        {
            "level": level,
            "page": page,
            "form": form,
            "total": total,
            "total_more": total_more,
            "deadlines": deadlines,
            "query": query.urlencode(),
        },
    )


@login_required
@require_POST
def review_action(request, pk: int):
    role = require_role(request, *selectors.REVIEWERS)
    level = selectors.review_level(role)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择操作。"))
        return redirect("review_queue")
    action = form.cleaned_data["action"]
    service_action = {"approve": f"{level}_approve", "return": f"{level}_return", "reject": "reject"}[action]
    try:
        services.declaration_transition(
            declaration_id=pk, action=service_action, role=role, actor=request.user, reason=form.full_reason()
        )
    except (StateConflict, ValidationError) as exc:
        # Shown beside the item's own form, on the queue page or the declaration's page.
        request.session[REVIEW_ERRORS_KEY] = {
            str(pk): {"errors": list(exc.messages), "data": {"reason": form.cleaned_data.get("reason", "")}}
        }
        next_url = request.POST.get("next") or ""
        if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(f"{next_url}#queue-item-{pk}")
        return redirect(f"{reverse('review_queue')}#queue-item-{pk}")
    else:
        messages.success(request, {"approve": _("已通过。"), "return": _("已退回。"), "reject": _("已不予认定。")}[action])
    next_url = request.POST.get("next") or ""
    # Django's check, not a prefix test: browsers read "/\host" as "//host", another site.
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("review_queue")


@login_required
@require_POST
def review_bulk_approve(request):
    role = require_role(request, *selectors.REVIEWERS)
    ids = [int(x) for x in request.POST.getlist("ids") if is_int_text(x)]
    if not ids:
        messages.error(request, _("请先勾选要通过的申报。"))
        return redirect("review_queue")
    result = services.declarations_bulk_approve(ids=ids, role=role, actor=request.user)
    if result["approved"]:
        messages.success(request, _("已通过 %(n)s 份申报。") % {"n": len(result["approved"])})
    for failure in result["failed"]:
        messages.error(request, _("申报 #%(id)s 未通过：%(error)s") % failure)
    return redirect("review_queue")


# --- evidence -----------------------------------------------------------------------------


EVIDENCE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"


@login_required
@xframe_options_sameorigin
def evidence_file(request, token: str):
    """Serve an evidence file to whoever may see its declaration (teacher, reviewers in scope, the city)."""
    evidence = get_object_or_404(selectors.evidence_visible_to(request.role), token=token)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    # Never active content on the platform's origin: a PDF is downloaded, not opened in the
    # browser's viewer beside the session; an image stays inline (the review pages preview it).
    # The sandbox makes whatever the browser does render an opaque-origin document that runs
    # no script, and nosniff keeps it from being read as anything but its declared type.
    disposition = "inline" if evidence.is_image else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="evidence-{evidence.pk}{evidence.extension}"'
    response["Content-Security-Policy"] = EVIDENCE_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- notifications --------------------------------------------------------------------------


@login_required
def notification_list(request):
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("notification_list")
    page = Paginator(Notification.objects.filter(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "hours/notifications.html", {"page": page})


@login_required
def notification_open(request, pk: int):
    note = get_object_or_404(Notification, pk=pk, user=request.user)
    services.notifications_mark_read(user=request.user, ids=[note.pk])
    return redirect(note.link or "notification_list")


# --- years (city) ------------------------------------------------------------------------------


@login_required
def year_list(request):
    role = require_role(request, RoleKind.CITY_ADMIN)
    this_year = timezone.localdate().year
    edit_year = request.GET.get("edit") or request.POST.get("year")
    form = None
    if edit_year and is_int_text(str(edit_year)) and int(edit_year) in Year.SUPPORTED:
        obj = Year.of(int(edit_year))
        form = YearForm(request.POST or None, instance=obj)
        if request.method == "POST" and form.is_valid():
            try:
                services.year_update(role=role, year=obj.year, data=form.cleaned_data)
            except (StateConflict, ValidationError) as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("%(year)s年度的截止日期已保存。") % {"year": obj.year})
                return redirect("year_list")
    years = list(Year.objects.all())
    if this_year not in {y.year for y in years}:
        years = sorted([*years, Year.of(this_year)], key=lambda y: -y.year)  # shown with its defaults, not stored
    return render(request, "hours/years.html", {"years": years, "form": form, "edit_year": edit_year})
