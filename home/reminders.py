"""The daily reminder job: N days before each deadline (the city's offsets, default 30, 7, 1), remind
the people who still have something to do, once per (person, deadline, offset), on every channel.

Set-based: for each deadline due today, one pass finds the recipients for the whole city (who is short
comes from one call of the figures seam over every teacher), one bulk insert claims the reminders
(the unique constraint drops those already given, by this or a concurrent run), and each channel
delivers the claimed batch in bulk. A second run the same day claims nothing and sends nothing.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind, Teacher, TeacherStatus
from hours.models import Declaration, DeclarationState
from verification.models import YearPolicy

from . import channels as channel_registry
from . import deadlines, figures
from .bulk import insert_many
from .models import Reminder, ReminderSettings

BATCH = 5000


def _short_users(year: int, *, categories: tuple[str, ...] | None = None) -> set[int]:
    """User ids of active teachers short for `year` (any minimum, or one of `categories`): the whole city
    at once (the figures of every active teacher with a login in a fixed number of queries)."""
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None:
        return set()
    teachers = Teacher.objects.filter(status=TeacherStatus.ACTIVE, user__isnull=False)
    figs = figures.year_figures(year=year, teacher_ids=teachers.values("pk"))
    out = set()
    for teacher_id, user_id in teachers.values_list("pk", "user_id"):
        short = figures.shortfalls(policy, figs.get(teacher_id) or figures.zero(teacher_id, year))
        if categories is None and any(v > 0 for v in short.values()):
            out.add(user_id)
        elif categories is not None and any(short[c] > 0 for c in categories):
            out.add(user_id)
    return out


def _returned_users(year: int) -> set[int]:
    return set(
        Declaration.objects.filter(year=year, state=DeclarationState.RETURNED, teacher__user__isnull=False)
        .values_list("teacher__user_id", flat=True)
        .distinct()
    )


def _reviewers(kind: str, state: str, year: int, via: str) -> set[int]:
    """Users holding `kind` at the organisations (`via`: the school, or its parent) with work in `state`."""
    orgs = Declaration.objects.filter(year=year, state=state).values(via)
    return set(Role.objects.filter(kind=kind, organisation_id__in=orgs).values_list("user_id", flat=True).distinct())


def recipients_declaration(d: deadlines.Deadline) -> set[int]:
    return _short_users(d.year) | _returned_users(d.year)


def recipients_school_review(d: deadlines.Deadline) -> set[int]:
    return _reviewers(RoleKind.SCHOOL_ADMIN, DeclarationState.SUBMITTED, d.year, "teacher__school_id") | _returned_users(d.year)


def recipients_district_review(d: deadlines.Deadline) -> set[int]:
    return _reviewers(RoleKind.DISTRICT_ADMIN, DeclarationState.SCHOOL_APPROVED, d.year, "teacher__school__parent_id")


def recipients_exchange_closes(d: deadlines.Deadline) -> set[int]:
    """Teachers short of professional or elective hours who hold at least one hour's worth of points."""
    from points.models import POINTS_PER_HOUR, PointsAccount

    with_points = set(
        PointsAccount.objects.filter(year=d.year, balance__gte=POINTS_PER_HOUR, teacher__user__isnull=False).values_list(
            "teacher__user_id", flat=True
        )
    )
    return with_points & _short_users(d.year, categories=("professional", "elective")) if with_points else set()


RECIPIENTS: dict[str, Callable[[deadlines.Deadline], set[int]]] = {
    "declaration": recipients_declaration,
    "school_review": recipients_school_review,
    "district_review": recipients_district_review,
    "exchange_closes": recipients_exchange_closes,
}
LINKS = {
    "declaration": "workspace",
    "school_review": "review_queue",
    "district_review": "review_queue",
    "exchange_closes": "my_points",
}


def due_deadlines(today: datetime.date, offsets: list[int]) -> list[tuple[deadlines.Deadline, int]]:
    out = []
    for year in (today.year - 1, today.year):
        for d in deadlines.year_deadlines(year):
            offset = (d.date - today).days
            if d.kind in RECIPIENTS and offset in offsets:
                out.append((d, offset))
    return out


def _message_text(d: deadlines.Deadline, offset: int) -> tuple[str, str]:
    subject = _("【继续教育】%(what)s还剩%(n)s天") % {"what": d.label, "n": offset}
    body = _("%(year)s年度%(what)s：%(date)s（还剩%(n)s天）。请及时处理。") % {
        "year": d.year,
        "what": d.label,
        "date": f"{d.date:%Y-%m-%d}",
        "n": offset,
    }
    return subject, body


def claim(d: deadlines.Deadline, offset: int, user_ids: set[int]) -> list[int]:
    """Insert a reminder row per user; the rows this call inserted (its batch) are the ones to send."""
    batch = uuid.uuid4().hex
    # Leave out who already has this reminder (one read), so that a second run inserts nothing; the
    # unique constraint still settles a race with a concurrent run (ignore_conflicts).
    given = set(Reminder.objects.filter(deadline_key=d.key, offset=offset).values_list("user_id", flat=True))
    ids = sorted(user_ids - given)
    if not ids:
        return []
    now = timezone.now()
    fields = ("user", "deadline_key", "offset", "kind", "deadline", "batch", "created_at")
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            insert_many(
                Reminder,
                fields,
                ((u, d.key, offset, d.kind, d.date, batch, now) for u in ids[start : start + BATCH]),
                ignore_conflicts=True,
            )
    return list(Reminder.objects.filter(batch=batch).order_by("user_id").values_list("user_id", flat=True))


def send_reminders(*, today: datetime.date) -> dict[str, int]:
    """Run the day's reminders. Returns {deadline key@offset: reminded} plus per-channel totals."""
    offsets = ReminderSettings.offset_list()
    chans = channel_registry.channels()
    report: dict[str, int] = {c.name: 0 for c in chans}
    for d, offset in due_deadlines(today, offsets):
        claimed = claim(d, offset, RECIPIENTS[d.kind](d))
        report[f"{d.key}@{offset}"] = len(claimed)
        if not claimed:
            continue
        subject, body = _message_text(d, offset)
        link = reverse(LINKS[d.kind])
        for start in range(0, len(claimed), BATCH):
            msgs = [
                channel_registry.Message(user_id=u, subject=subject, body=body, link=link) for u in claimed[start : start + BATCH]
            ]
            for channel in chans:
                report[channel.name] += channel.deliver(msgs)
    return report


__all__ = ["send_reminders", "claim", "due_deadlines", "settings"]
