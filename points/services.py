"""Every change to points goes through here: earning (API and import), exchange requests,
the school's payment confirmation, refusal and cancellation, and the year-end expiry.

The balance of an account is the sum of its entries' deltas; the cached `PointsAccount.balance`
and `held` are updated in the same transaction as the entry, under the account's row lock.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind, Teacher, TeacherStatus, User
from cpd import batch
from cpd.errors import NotFound, StateConflict

from .models import (
    CAP_HOURS,
    POINTS_PER_HOUR,
    EarningRule,
    EntryKind,
    EventStatus,
    ExchangeRequest,
    ExchangeWindow,
    PointsAccount,
    PointsEntry,
    PointsEvent,
    RequestState,
)

EXPIRY_CHUNK = 50_000


def _locked_account(teacher_id: int, year: int) -> PointsAccount:
    """Call inside a transaction: the account row, created if missing, locked."""
    PointsAccount.objects.get_or_create(teacher_id=teacher_id, year=year)
    return PointsAccount.objects.select_for_update().get(teacher_id=teacher_id, year=year)


def _entry(account: PointsAccount, kind: str, delta: int, amount: int, **extra: Any) -> PointsEntry:
    """Append an entry and move the cached balance/held in the same transaction (account locked)."""
    entry = PointsEntry.objects.create(account=account, kind=kind, delta=delta, amount=amount, **extra)
    held_changes: dict[str, int] = {EntryKind.HELD: amount, EntryKind.RELEASED: -amount, EntryKind.SPENT: -amount}
    held_change = held_changes.get(kind, 0)
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + delta, held=F("held") + held_change)
    account.balance += delta
    account.held += held_change
    return entry


# --- earning ---------------------------------------------------------------------------------------


def points_earn(*, event_id: str, teacher_key: str, action_code: str, occurred_on: datetime.date) -> PointsEvent:
    """Record one platform event: checked against the rule and its daily and yearly limits.

    Idempotent by `event_id`: the same event again returns the first answer and changes nothing.
    Refused events are recorded with the reason.
    """
    event_id = (event_id or "").strip()
    if not event_id:
        raise ValidationError({"event_id": _("缺少事件编号。")})
    existing = PointsEvent.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing
    reason = ""
    rule = EarningRule.objects.filter(action_code=action_code, is_active=True).first()
    key = (teacher_key or "").strip().upper()
    teacher = Teacher.objects.filter(Q(id_number=key) | Q(cpd_number=key)).only("pk").first() if key else None
    today = timezone.localdate()
    if rule is None:
        reason = _("未知或已停用的积分规则：%(code)s") % {"code": action_code}
    elif teacher is None:
        reason = _("未找到该教师")
    elif occurred_on > today:
        reason = _("发生日期晚于今天")
    elif occurred_on.year != today.year:
        reason = _("积分只在当年有效，%(year)s年的积分已过期") % {"year": occurred_on.year}
    try:
        with transaction.atomic():
            if reason:
                return PointsEvent.objects.create(
                    event_id=event_id,
                    teacher_key=key,
                    action_code=action_code,
                    occurred_on=occurred_on,
                    status=EventStatus.REFUSED,
                    reason=reason,
                )
            assert teacher is not None and rule is not None  # otherwise `reason` is set above
            account = _locked_account(teacher.pk, occurred_on.year)
            earned = PointsEntry.objects.filter(account=account, kind=EntryKind.EARNED, rule=rule)
            if rule.daily_limit is not None:
                today_total = earned.filter(occurred_on=occurred_on).aggregate(s=Sum("amount"))["s"] or 0
                if today_total + rule.points > rule.daily_limit:
                    reason = _("超过该行为的每日上限（%(n)s分）") % {"n": rule.daily_limit}
            if not reason and rule.yearly_limit is not None:
                year_total = earned.aggregate(s=Sum("amount"))["s"] or 0
                if year_total + rule.points > rule.yearly_limit:
                    reason = _("超过该行为的每年上限（%(n)s分）") % {"n": rule.yearly_limit}
            if reason:
                return PointsEvent.objects.create(
                    event_id=event_id,
                    teacher_key=key,
                    action_code=action_code,
                    occurred_on=occurred_on,
                    status=EventStatus.REFUSED,
                    reason=reason,
                )
            _entry(
                account,
                EntryKind.EARNED,
                rule.points,
                rule.points,
                rule=rule,
                event_id=event_id,
                occurred_on=occurred_on,
                reason=rule.name,
            )
            return PointsEvent.objects.create(
                event_id=event_id,
                teacher_key=key,
                action_code=action_code,
                occurred_on=occurred_on,
                status=EventStatus.ACCEPTED,
                points=rule.points,
            )
    except IntegrityError:
        # The same event arrived twice at the same moment: the other one won.
        return PointsEvent.objects.get(event_id=event_id)


# --- exchange ----------------------------------------------------------------------------------------


def exchangeable_now(teacher: Teacher, year: int | None = None) -> dict[str, Any]:
    """What the teacher may request now: per category, the hours left under the cap and affordable. The
    window, then the balance, the hold and the hours requested per category in one statement (cpd.batch)."""
    year = year or timezone.localdate().year
    window = ExchangeWindow.objects.filter(year=year).first()
    account = PointsAccount.objects.filter(teacher=teacher, year=year)
    requested = ExchangeRequest.objects.filter(teacher=teacher, year=year, state__in=[RequestState.PENDING, RequestState.PAID])
    balance, held, *hours = batch.fetch(
        [
            batch.value(account.values("balance")),
            batch.value(account.values("held")),
            *(batch.total(requested.filter(category=c), "hours") for c in CAP_HOURS),
        ]
    )
    balance = balance or 0
    used = dict(zip(CAP_HOURS, hours, strict=True))
    affordable = balance // POINTS_PER_HOUR
    per_category = {c: max(0, min(cap - (used.get(c) or 0), affordable)) for c, cap in CAP_HOURS.items()}
    return {
        "year": year,
        "window": window,
        "open": bool(window and window.is_open()),
        "balance": balance,
        "held": held or 0,
        "used": {c: used.get(c) or 0 for c in CAP_HOURS},
        "caps": CAP_HOURS,
        "per_category": per_category,
    }


def exchange_request(*, role: Role, actor: User, category: str, hours: int) -> ExchangeRequest:
    """Hold 100 points per whole hour. Refused over the balance, over the yearly cap (pending
    requests included) or outside the window. Serialised per teacher and year by the account lock."""
    if role is None or role.kind != RoleKind.TEACHER:
        raise PermissionDenied(_("只有教师本人可以兑换积分。"))
    teacher = Teacher.objects.filter(user_id=role.user_id).first()
    if teacher is None:
        raise NotFound
    if teacher.status != TeacherStatus.ACTIVE:
        raise StateConflict(_("只有在职教师可以兑换积分。"))
    if category not in CAP_HOURS:
        raise ValidationError({"category": _("只能兑换为专业科目或个人选修科目学时。")})
    if not isinstance(hours, int) or hours < 1:
        raise ValidationError({"hours": _("须按整学时兑换，至少1学时。")})
    today = timezone.localdate()
    year = today.year
    window = ExchangeWindow.objects.filter(year=year).first()
    if window is None or not window.is_open(today):
        when = f"{window.opens_on:%Y-%m-%d} ~ {window.closes_on:%Y-%m-%d}" if window else _("未设定")
        raise StateConflict(_("不在兑换时间内（%(year)s年兑换时间：%(when)s）。") % {"year": year, "when": when})
    points = hours * POINTS_PER_HOUR
    with transaction.atomic():
        account = _locked_account(teacher.pk, year)
        used = (
            ExchangeRequest.objects.filter(
                teacher=teacher, year=year, category=category, state__in=[RequestState.PENDING, RequestState.PAID]
            ).aggregate(h=Sum("hours"))["h"]
            or 0
        )
        cap = CAP_HOURS[category]
        if used + hours > cap:
            raise ValidationError(
                {
                    "hours": _("每年最多兑换%(cap)s学时（含待确认的申请），本类别还可兑换 %(left)s 学时。")
                    % {"cap": cap, "left": max(0, cap - used)}
                }
            )
        if account.balance < points:
            raise ValidationError(
                {"hours": _("积分不足：需要 %(need)s 分，可用 %(have)s 分。") % {"need": points, "have": account.balance}}
            )
        request = ExchangeRequest.objects.create(teacher=teacher, year=year, category=category, hours=hours, points=points)
        _entry(account, EntryKind.HELD, -points, points, request=request, reason=_("兑换申请 #%(id)s") % {"id": request.pk})
    return request


def requests_visible_to(role: Role | None) -> QuerySet[ExchangeRequest]:
    from accounts.selectors import scope_by_teacher

    return scope_by_teacher(ExchangeRequest.objects.select_related("teacher", "teacher__school"), role)


def _release(request: ExchangeRequest, state: str, actor: User | None, reason: str) -> ExchangeRequest:
    """Call inside a transaction. Give the held points back and close the request."""
    account = _locked_account(request.teacher_id, request.year)
    locked = ExchangeRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != RequestState.PENDING:
        raise StateConflict(_("该申请当前状态为“%(state)s”。") % {"state": locked.get_state_display()})
    _entry(account, EntryKind.RELEASED, locked.points, locked.points, request=locked, reason=reason[:300])
    locked.state = state
    locked.reason = reason[:300]
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save()
    return locked


def exchange_cancel(*, role: Role, actor: User, request: ExchangeRequest) -> ExchangeRequest:
    if role is None or role.kind != RoleKind.TEACHER or not requests_visible_to(role).filter(pk=request.pk).exists():
        raise NotFound
    with transaction.atomic():
        return _release(request, RequestState.CANCELLED, actor, _("教师取消"))


def exchange_refuse(*, role: Role, actor: User, request: ExchangeRequest, reason: str) -> ExchangeRequest:
    if role is None or role.kind != RoleKind.SCHOOL_ADMIN:
        raise PermissionDenied(_("由学校管理员确认或退回兑换申请。"))
    if not requests_visible_to(role).filter(pk=request.pk).exists():
        raise NotFound
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写原因。")})
    with transaction.atomic():
        return _release(request, RequestState.REFUSED, actor, reason.strip())


def exchange_confirm_paid(*, role: Role, actor: User, request_ids: list[int]) -> dict[str, list[Any]]:
    """The school confirms it paid: the held points are spent and the hours enter the ledger
    (source: points exchange, the year of the points). Each request in its own transaction."""
    if role is None or role.kind != RoleKind.SCHOOL_ADMIN:
        raise PermissionDenied(_("由学校管理员确认兑换。"))
    from hours import ledger
    from hours.models import Source

    visible = set(requests_visible_to(role).filter(pk__in=request_ids).values_list("pk", flat=True))
    done, failed = [], []
    for pk in request_ids:
        if pk not in visible:
            failed.append({"id": pk, "error": _("未找到")})
            continue
        try:
            with transaction.atomic():
                req = ExchangeRequest.objects.select_related("teacher").get(pk=pk)
                account = _locked_account(req.teacher_id, req.year)
                locked = ExchangeRequest.objects.select_for_update().get(pk=pk)
                if locked.state != RequestState.PENDING:
                    raise StateConflict(_("该申请当前状态为“%(state)s”。") % {"state": locked.get_state_display()})
                _entry(
                    account, EntryKind.SPENT, 0, locked.points, request=locked, reason=_("兑换 %(h)s 学时") % {"h": locked.hours}
                )
                ledger.entry_create(
                    teacher=req.teacher,
                    year=locked.year,
                    category=locked.category,
                    hours=Decimal(locked.hours),
                    source=Source.POINTS_EXCHANGE,
                    title=_("网络研修积分兑换（%(p)s分）") % {"p": locked.points},
                    organiser=role.organisation.name,
                    source_ref=f"points:{locked.pk}",
                    actor=actor,
                )
                locked.state = RequestState.PAID
                locked.decided_by = actor
                locked.decided_at = timezone.now()
                locked.save()
        except (StateConflict, ValidationError) as exc:
            failed.append({"id": pk, "error": " ".join(getattr(exc, "messages", [str(exc)]))})
        else:
            done.append(pk)
    return {"confirmed": done, "failed": failed}


# --- year-end expiry --------------------------------------------------------------------------------------


def points_expire_year(year: int) -> dict[str, int]:
    """Clear every unspent point of `year`: cancel pending requests (release, then expire), and write
    one 'expired' entry per account with points left. Set-based: a few statements per chunk of
    accounts, no loop over teachers. Running it again changes nothing."""
    now = timezone.now()
    today = timezone.localdate(now)  # the platform's day, not UTC's
    # Raw SQL bypasses the field's adaptation: store the timestamp as the ORM would (SQLite: naive UTC).
    stamp = connection.ops.adapt_datetimefield_value(now)
    reason_release = _("年末自动取消未确认的兑换申请")
    reason_expire = _("积分只在当年有效，年末清零")
    cancelled = 0
    expired_accounts = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM points_pointsaccount WHERE year = %s", [year])
        low, high = cursor.fetchone()
    if low is None:
        return {"cancelled": 0, "expired_accounts": 0}
    for start in range(low, high + 1, EXPIRY_CHUNK):
        end = start + EXPIRY_CHUNK
        with transaction.atomic(), connection.cursor() as cursor:
            # Lock the chunk's accounts so no exchange or earning interleaves with the expiry.
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT id FROM points_pointsaccount WHERE year = %s AND id >= %s AND id < %s FOR UPDATE", [year, start, end]
                )
            # 1. Pending requests: release their points ...
            cursor.execute(
                """INSERT INTO points_pointsentry (account_id, kind, delta, amount, request_id, occurred_on, reason, created_at)
                   SELECT a.id, 'released', r.points, r.points, r.id, %s, %s, %s
                   FROM points_exchangerequest r JOIN points_pointsaccount a ON a.teacher_id = r.teacher_id AND a.year = r.year
                   WHERE r.year = %s AND r.state = 'pending' AND a.id >= %s AND a.id < %s""",
                [today, reason_release, stamp, year, start, end],
            )
            cursor.execute(
                """UPDATE points_pointsaccount SET balance = balance + held, held = 0
                   WHERE year = %s AND held > 0 AND id >= %s AND id < %s""",
                [year, start, end],
            )
            cursor.execute(
                """UPDATE points_exchangerequest SET state = 'cancelled', reason = %s, decided_at = %s
                   WHERE year = %s AND state = 'pending'
                   AND teacher_id IN (SELECT teacher_id FROM points_pointsaccount WHERE year = %s AND id >= %s AND id < %s)""",
                [reason_release, stamp, year, year, start, end],
            )
            cancelled += cursor.rowcount
            # 2. ... then expire every balance left.
            cursor.execute(
                """INSERT INTO points_pointsentry (account_id, kind, delta, amount, occurred_on, reason, created_at)
                   SELECT id, 'expired', -balance, balance, %s, %s, %s
                   FROM points_pointsaccount WHERE year = %s AND balance > 0 AND id >= %s AND id < %s""",
                [today, reason_expire, stamp, year, start, end],
            )
            expired_accounts += cursor.rowcount
            cursor.execute(
                "UPDATE points_pointsaccount SET balance = 0 WHERE year = %s AND balance > 0 AND id >= %s AND id < %s",
                [year, start, end],
            )
    return {"cancelled": cancelled, "expired_accounts": expired_accounts}


def points_expire_due(today: datetime.date | None = None) -> dict[int, dict[str, int]]:
    """Celery beat, daily: expire every past year that still has points or pending requests."""
    today = today or timezone.localdate()
    years = set(
        PointsAccount.objects.filter(year__lt=today.year)
        .filter(Q(balance__gt=0) | Q(held__gt=0))
        .values_list("year", flat=True)
        .distinct()
    )
    years |= set(
        ExchangeRequest.objects.filter(year__lt=today.year, state=RequestState.PENDING).values_list("year", flat=True).distinct()
    )
    return {year: points_expire_year(year) for year in sorted(years)}


# --- rules and windows (city) -----------------------------------------------------------------------------


def _require_city(role: Role | None) -> None:
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以设置积分规则和兑换时间。"))


def rule_save(*, role: Role, data: dict[str, Any], rule: EarningRule | None = None) -> EarningRule:
    _require_city(role)
    obj = rule or EarningRule()
    for field in ("action_code", "name", "points", "kind", "daily_limit", "yearly_limit", "is_active"):
        if field in data:
            setattr(obj, field, data[field])
    obj.full_clean()
    obj.save()
    return obj


def window_save(*, role: Role, year: int, opens_on: datetime.date, closes_on: datetime.date) -> ExchangeWindow:
    _require_city(role)
    window = ExchangeWindow.objects.filter(year=year).first() or ExchangeWindow(year=year)
    window.opens_on = opens_on
    window.closes_on = closes_on
    window.full_clean()
    window.save()
    return window
