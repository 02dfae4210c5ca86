"""Home pages: the teacher's compliance card, the to-do lists of every other role, and the pages
the to-do items link to when no existing page lists exactly those things."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors as account_selectors
from accounts.models import RoleKind
from accounts.permissions import require_role
from accounts.views import workspace as account_workspace
from accounts.views import workspace_context

from . import behind as behind_selectors
from . import card as cards
from . import deadlines, ical, services, todos, transcript
from .models import UserPreference

STAFF = (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)


@login_required
def home(request):
    role = request.role
    if role is None:
        return account_workspace(request)
    today = timezone.localdate()
    if role.kind == RoleKind.TEACHER:
        teacher = account_selectors.teachers_visible_to(role).first()
        if teacher is None:
            return account_workspace(request)
        return render(
            request,
            "home/teacher.html",
            {
                "role": role,
                "teacher": teacher,
                "missing": teacher.missing_required_fields(),
                "card": cards.compliance_card(role, teacher, today),
                "today": today,
            },
        )
    items = todos.todo_list(role, today)
    context = workspace_context(request)
    context.update(
        {
            "todos": items,
            "todo_total": sum(i.count for i in items),
            "nearest": todos.nearest_deadline(items, today),
            "today": today,
            "can_see_behind": role.kind in STAFF,
        }
    )
    return render(request, "home/staff.html", context)


@login_required
def returned(request):
    """Declarations returned to the teacher and not yet resubmitted, in the reviewer's scope."""
    role = require_role(request, *STAFF)
    qs = todos.returned_qs(role).order_by("updated_at", "pk")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "home/returned.html", {"page": page, "total": page.paginator.count})


@login_required
def late(request):
    role = require_role(request, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)
    rows = todos.late_units(role, timezone.localdate())
    return render(request, "home/late.html", {"rows": rows})


@login_required
def settings_due(request):
    require_role(request, RoleKind.CITY_ADMIN)
    return render(request, "home/settings_due.html", {"rows": todos.missing_settings(timezone.localdate())})


@login_required
def projects_due(request):
    role = require_role(request, RoleKind.PROVIDER, RoleKind.SCHOOL_ADMIN, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)
    today = timezone.localdate()
    rows = [{"p": p, "deadline": p.registration_deadline()} for p in todos.projects_due(role, today)]
    for r in rows:
        r["days_left"] = (r["deadline"] - today).days
    return render(request, "home/projects_due.html", {"rows": rows})


@login_required
def behind(request):
    """Who is behind for the open year: by district (city), by school (district), then the teachers."""
    role = require_role(request, *STAFF)
    unit = request.GET.get("unit")
    unit_id = int(unit) if unit and unit.isdigit() else None
    if unit and unit_id is None:
        raise Http404
    data = behind_selectors.behind(role, timezone.localdate(), unit_id=unit_id, cursor=request.GET.get("cursor"))
    if data.get("missing"):
        raise Http404
    return render(
        request,
        "home/behind.html",
        {"data": data, "role": role, "page": data.get("page"), "query": f"unit={unit_id}" if unit_id is not None else ""},
    )


@login_required
def calendar(request):
    """The year's deadlines that matter to the role, on one page, with the personal iCalendar feed."""
    today = timezone.localdate()
    items = deadlines.deadlines_for(request.role, [today.year - 1, today.year])
    rows = [{"d": d, "days_left": d.days_left(today), "past": d.date < today} for d in items]
    pref = UserPreference.objects.filter(user=request.user).first()
    feed_url = None
    if pref is not None and pref.calendar_token:
        feed_url = request.build_absolute_uri(reverse("home_calendar_feed", args=[pref.calendar_token]))
    return render(
        request,
        "home/calendar.html",
        {"rows": rows, "today": today, "feed_url": feed_url, "email_reminders": pref.email_reminders if pref else True},
    )


@login_required
@require_POST
def calendar_token(request):
    if request.POST.get("action") == "revoke":
        services.calendar_token_revoke(user=request.user)
        messages.success(request, _("日历订阅地址已停用。"))
    else:
        services.calendar_token_renew(user=request.user)
        messages.success(request, _("已生成新的日历订阅地址，旧地址已失效。"))
    return redirect("home_calendar")


@login_required
@require_POST
def email_preference(request):
    enabled = request.POST.get("email_reminders") == "1"
    services.email_reminders_set(user=request.user, enabled=enabled)
    messages.success(request, _("已开启截止提醒邮件。") if enabled else _("已关闭截止提醒邮件。"))
    return redirect("home_calendar")


def calendar_feed(request, token: str):
    """Public (no login: calendar apps cannot log in): the feed of the user whose secret is in the URL."""
    pref = UserPreference.objects.select_related("user").filter(calendar_token=token, user__is_active=True).first()
    if pref is None or not token:
        raise Http404
    response = HttpResponse(ical.feed(pref.user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="cpd-deadlines.ics"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- hours transcript (学时证明) ---------------------------------------------------------------------------


def _own_teacher(request):
    role = require_role(request, RoleKind.TEACHER)
    teacher = account_selectors.teachers_visible_to(role).first()
    if teacher is None:
        raise Http404
    return teacher


@login_required
def transcripts(request):
    """The teacher's years with a final verdict, each downloadable; a school's ZIP per year."""
    role = request.role
    today = timezone.localdate()
    if role is not None and role.kind in (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL):
        from verification.models import VerificationResult

        years = list(
            VerificationResult.objects.filter(school=role.organisation, year__lt=today.year)
            .values_list("year", flat=True)
            .distinct()
            .order_by("-year")
        )
        # Built by the export job "transcripts" (a PDF per teacher: seconds for a school), downloaded from the
        # exports page, which an annual deployment has.
        export_url = reverse("export_list") if settings.CPD_REGIME == "annual" else None
        return render(request, "home/transcripts.html", {"school_years": years, "export_url": export_url})
    teacher = _own_teacher(request)
    if settings.CPD_REGIME == "cycle":
        from cycles.models import CycleState, TeacherCycle

        cycles = (
            TeacherCycle.objects.filter(teacher=teacher)
            .filter(Q(state=CycleState.ACTIVE) | Q(certificate__isnull=False))
            .order_by("-start_date")
        )
        return render(request, "home/transcripts.html", {"cycles": cycles, "teacher": teacher})
    results = cards.final_results(teacher, today)
    return render(request, "home/transcripts.html", {"results": results, "teacher": teacher})


@login_required
def transcript_cycle_pdf(request, cycle_id: int):
    teacher = _own_teacher(request)
    t = transcript.build_cycle(teacher, cycle_id)
    if t is None:
        raise Http404
    response = HttpResponse(transcript.pdf(t), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="transcript-cycle-{cycle_id}-{teacher.cpd_number}.pdf"'
    return response


@login_required
def transcript_pdf(request, year: int):
    teacher = _own_teacher(request)
    t = transcript.build(teacher, year)
    if t is None:
        raise Http404
    response = HttpResponse(transcript.pdf(t), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="transcript-{year}-{teacher.cpd_number}.pdf"'
    return response


def transcript_check(request, code: str = ""):
    """Public: anyone checks a transcript's code. Only the masked name, the period, the totals and the
    verdict are shown; a forged or unknown code is refused."""
    code = code or request.GET.get("code", "").strip()
    result = transcript.public_check(code) if code else None
    status = 404 if code and result is None else 200
    return render(request, "home/transcript_check.html", {"code": code, "result": result, "checked": bool(code)}, status=status)
