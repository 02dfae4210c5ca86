"""Points from an Excel file: 事件编号, 证件号, 行为代码, 日期 — each row an event like the API's."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind
from cpd.errors import StateConflict
from cpd.tasks import enqueue
from cpd.xlsx import RowErrors, check_upload, iter_rows, parse_date, workbook_bytes

from . import services
from .models import EventStatus, PointsEvent, PointsImport

HEADERS = ["事件编号", "证件号", "行为代码", "日期"]
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000


def template() -> bytes:
    return workbook_bytes(HEADERS, [["EV-0001", "440106198506010125", "post", timezone.localdate().isoformat()]], title="积分")


def _parse(content: bytes):
    errors = RowErrors()
    rows = []
    seen: dict[str, int] = {}
    for row_number, (event_id, key, code, date_raw) in iter_rows(io.BytesIO(content), headers=HEADERS, max_rows=MAX_ROWS):
        event_id = str(event_id or "").strip()
        ok = True
        for value, header in ((event_id, "事件编号"), (key, "证件号"), (code, "行为代码")):
            if not str(value or "").strip():
                errors.add(row_number, header, _("必填项为空"))
                ok = False
        try:
            date = parse_date(date_raw)
            if date is None:
                errors.add(row_number, "日期", _("必填项为空"))
                ok = False
        except ValueError:
            errors.add(row_number, "日期", _("日期格式应为 YYYY-MM-DD"))
            ok = False
        if event_id in seen:
            errors.add(row_number, "事件编号", _("与第 %(row)s 行重复") % {"row": seen[event_id]})
            ok = False
        seen.setdefault(event_id, row_number)
        if ok:
            rows.append((row_number, event_id, str(key).strip(), str(code).strip(), date))
    return rows, errors.sorted(HEADERS)


def points_import_upload(*, role: Role, actor, uploaded) -> PointsImport:
    """Store the file and run its dry run: now without a broker, in a worker with one (the web
    request then only checks the file's shape, so the Excel reader never runs in it)."""
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以导入积分。"))
    check_upload(uploaded, max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
    content = uploaded.read()
    record = PointsImport(
        uploaded_by=actor,
        original_name=(getattr(uploaded, "name", "") or "points.xlsx")[:255],
        status="validating",
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _apply_dry_run(record, *_parse(content))
    record.file.save(f"points-{timezone.now():%Y%m%d%H%M%S}.xlsx", ContentFile(content), save=False)
    record.save()
    if record.status == "validating":
        enqueue(
            "points.tasks.points_import_validate",
            record.pk,
            on_failure=lambda reason: PointsImport.objects.filter(pk=record.pk, status="validating").update(
                status="failed", errors=[{"row": 0, "column": "", "message": reason}]
            ),
        )
    return record


def _apply_dry_run(record: PointsImport, rows: list, errors: list) -> None:
    record.status = "failed" if errors else "validated"
    record.total_rows = len(rows) + len({e["row"] for e in errors})
    record.errors = errors[:5000]


def points_import_validate(import_id: int) -> PointsImport:
    """The worker's dry run of a stored file. Idempotent: only a `validating` file is read."""
    record = PointsImport.objects.get(pk=import_id)
    if record.status != "validating":
        return record
    try:
        with record.file.open("rb") as fh:
            _apply_dry_run(record, *_parse(fh.read()))
    except ValidationError as exc:
        _apply_dry_run(record, [], [{"row": 0, "column": "", "message": m} for m in exc.messages])
    PointsImport.objects.filter(pk=import_id, status="validating").update(
        status=record.status, total_rows=record.total_rows, errors=record.errors
    )
    record.refresh_from_db()
    return record


def points_import_confirm(*, role: Role, record: PointsImport) -> PointsImport:
    """Every row through `services.points_earn` (idempotent by event id: a re-upload adds nothing).

    With a broker a worker reads the file and counts the rows (`points_import_run`)."""
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以导入积分。"))
    claimed = PointsImport.objects.filter(pk=record.pk, status="validated").update(status="importing")
    if not claimed:
        raise StateConflict(_("只有校验通过且尚未导入的文件可以确认导入。"))
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        enqueue(
            "points.tasks.points_import_run",
            record.pk,
            on_failure=lambda _reason: PointsImport.objects.filter(pk=record.pk, status="importing").update(status="validated"),
        )
        record.refresh_from_db()
        return record
    return points_import_run(record.pk)


def points_import_run(import_id: int) -> PointsImport:
    record = PointsImport.objects.get(pk=import_id)
    if record.status != "importing":
        return record
    try:
        return _import_rows(record)
    except Exception:
        # Every row is idempotent by event id: put the file back so the city can confirm it again
        # instead of leaving it stuck "importing" with part of its events counted.
        PointsImport.objects.filter(pk=record.pk, status="importing").update(status="validated")
        raise


def _import_rows(record: PointsImport) -> PointsImport:
    with record.file.open("rb") as fh:
        rows, _errors = _parse(fh.read())
    accepted, refused = 0, []
    # An event recorded before this import (an earlier file, the API) counts nothing now: say so,
    # rather than report it as "计入" a second time.
    seen_before: set[str] = set()
    for start in range(0, len(rows), 1000):
        ids = [r[1] for r in rows[start : start + 1000]]
        seen_before.update(PointsEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True))
    for row_number, event_id, key, code, date in rows:
        if event_id in seen_before:
            refused.append({"row": row_number, "event_id": event_id, "reason": _("该事件编号此前已处理过，本次不重复计入")})
            continue
        event = services.points_earn(event_id=event_id, teacher_key=key, action_code=code, occurred_on=date)
        if event.status == EventStatus.ACCEPTED:
            accepted += 1
        else:
            refused.append({"row": row_number, "event_id": event_id, "reason": event.reason})
    PointsImport.objects.filter(pk=record.pk).update(status="imported", accepted=accepted, refused=refused[:5000])
    record.refresh_from_db()
    return record
