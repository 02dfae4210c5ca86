"""Home pages: the teacher's compliance card and the to-do lists of every other role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import RoleKind
from accounts.views import workspace as account_workspace

from . import card as cards


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
    return account_workspace(request)


@login_required
def calendar(request):
    """The year's deadlines that matter to the role, on one page, with the personal iCalendar feed."""
    from . import deadlines

    today = timezone.localdate()
    items = deadlines.deadlines_for(request.role, [today.year - 1, today.year])
    rows = [{"d": d, "days_left": d.days_left(today), "past": d.date < today} for d in items]
    return render(request, "home/calendar.html", {"rows": rows, "today": today, "feed_url": _feed_url(request)})


def _feed_url(request) -> str | None:
    return None
