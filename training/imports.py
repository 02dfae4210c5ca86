"""Bulk hours imports: attendance registration for a project, provincial public-subject hours.

Both follow the same shape: upload -> dry run (row number + column + message for every
problem; nothing written) -> confirm (atomic, all or nothing) -> re-uploading the same
data adds nothing. Validation is set-based: the teachers in scope are loaded in one
query, the existing entries in one more; inserts are batched. Large files are validated
and imported by a Celery task that reports progress in `HoursImport.processed_rows`.
The dry run keeps the parsed rows next to the stored file (`<file>.rows.json.gz`), so that
the confirm validates them again without parsing the Excel file a second time.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind, Teacher
from cpd.errors import NotFound, StateConflict
from cpd.tasks import enqueue
from cpd.xlsx import RowErrors, check_upload, iter_rows, parse_date, parse_decimal, workbook_bytes
from hours import ledger
from hours.models import Category, LedgerEntry, Source, Year
from security.crypto import keyed_hash

from . import projects
from .models import HoursImport, HoursImportKind, HoursImportStatus, TrainingProject

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
PROGRESS_EVERY = 5_000
REGISTRATION_HEADERS = ["证件号", "姓名", "学时", "培训日期"]
REGISTRATION_REQUIRED = ["证件号", "学时"]
PROVINCIAL_HEADERS = ["身份证号", "姓名", "专题名称", "学时", "年度"]
PROVINCIAL_REQUIRED = ["身份证号", "专题名称", "学时", "年度"]
INSERT_BATCH = 5000


def registration_template() -> bytes:
    return workbook_bytes(
        REGISTRATION_HEADERS, [["440106198506010125 或 继续教育证号", "张三", 12, "2026-03-02"]], title="学时登记"
    )


def provincial_template() -> bytes:
    return workbook_bytes(PROVINCIAL_HEADERS, [["440106198506010125", "张三", "师德师风专题", 6, 2026]], title="公需科目")


def imports_visible_to(role: Role | None):
    """The organisation's uploads, for the roles that register hours (not its teachers or principal)."""
    if role is None or role.kind not in projects.ORGANISER_ROLES:
        return HoursImport.objects.none()
    return HoursImport.objects.filter(organisation=role.organisation).select_related("project")


# --- upload and dry run ------------------------------------------------------------------------


def hours_import_upload(*, role: Role, actor, uploaded, kind: str, project: TrainingProject | None = None) -> HoursImport:
    """Store the file and run its dry run (in a task for large files; eager locally)."""
    if kind == HoursImportKind.REGISTRATION:
        if project is None:
            raise ValidationError({"project": _("请选择培训项目。")})
        projects._require_organiser(role, project)
        projects.check_registration_deadline(project)
    elif kind == HoursImportKind.PROVINCIAL:
        if role is None or role.kind != RoleKind.CITY_ADMIN:
            raise PermissionDenied(_("只有市管理员可以导入省平台公需科目学时。"))
        project = None
    else:
        raise ValidationError({"kind": _("未知的导入类型。")})
    check_upload(uploaded, max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
    content = uploaded.read()
    parsed = None
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: the dry run runs now, in this request; an unreadable file or a wrong header is
        # refused at once, and the rows read are kept for the dry run rather than parsed twice.
        # With a broker the web request reads no cell (the Excel reader's memory is the worker's):
        # `check_upload` has checked the file's shape, and the task reports a wrong header.
        headers, required = (
            (REGISTRATION_HEADERS, REGISTRATION_REQUIRED)
            if kind == HoursImportKind.REGISTRATION
            else (PROVINCIAL_HEADERS, PROVINCIAL_REQUIRED)
        )
        parsed = list(iter_rows(io.BytesIO(content), headers=headers, required_headers=required, max_rows=MAX_ROWS))
    record = HoursImport(
        kind=kind,
        project=project,
        organisation=role.organisation,
        uploaded_by=actor,
        original_name=(getattr(uploaded, "name", "") or "import.xlsx")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        status=HoursImportStatus.VALIDATING,
    )
    record.file.save(f"{kind}-{timezone.now():%Y%m%d%H%M%S}-{record.sha256[:12]}.xlsx", ContentFile(content), save=False)
    record.save()
    if parsed is not None:
        _cache_rows(record, parsed)
        parsed = None  # the dry run reads the kept copy
    enqueue(
        "training.tasks.hours_import_validate",
        record.pk,
        on_failure=lambda reason: HoursImport.objects.filter(pk=record.pk, status=HoursImportStatus.VALIDATING).update(
            status=HoursImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": reason}]
        ),
    )
    record.refresh_from_db()
    return record


def _rows(record: HoursImport):
    """The file's rows as `iter_rows` yields them.

    Parsing the Excel file is most of the work of a large import, and the confirm validates the
    same file again (against today's data). So the first complete read keeps the parsed rows
    next to the file, and later reads use them instead of parsing again.
    """
    cached = _cached_rows(record)
    if cached is not None:
        yield from cached
        return
    with record.file.open("rb") as fh:
        data = io.BytesIO(fh.read())
    if record.kind == HoursImportKind.REGISTRATION:
        rows = iter_rows(data, headers=REGISTRATION_HEADERS, required_headers=REGISTRATION_REQUIRED, max_rows=MAX_ROWS)
    else:
        rows = iter_rows(data, headers=PROVINCIAL_HEADERS, required_headers=PROVINCIAL_REQUIRED, max_rows=MAX_ROWS)
    parsed = []
    for row in rows:
        parsed.append(row)
        yield row
    _cache_rows(record, parsed)


# Cells are kept as JSON; the date and time values openpyxl gives are tagged so that they come back
# as the same objects, and validating the copy gives exactly what validating the file gives.
_CELL_TYPES: dict[str, Any] = {"datetime": datetime.datetime, "date": datetime.date, "time": datetime.time}


def _cell_to_json(value: Any) -> dict:
    for tag, kind in _CELL_TYPES.items():  # datetime first: a datetime is also a date
        if isinstance(value, kind):
            return {tag: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"timedelta": [value.days, value.seconds, value.microseconds]}
    raise TypeError(f"cannot keep a {type(value).__name__} cell")


def _cell_from_json(obj: dict) -> Any:
    if len(obj) != 1:
        return obj
    ((tag, value),) = obj.items()
    if tag == "timedelta":
        return datetime.timedelta(*value)
    return _CELL_TYPES[tag].fromisoformat(value) if tag in _CELL_TYPES else obj


def _rows_cache_name(record: HoursImport) -> str:
    return f"{record.file.name}.rows.json.gz"


def _cache_rows(record: HoursImport, rows: list[tuple[int, tuple]]) -> None:
    try:
        data = json.dumps({"sha256": record.sha256, "rows": rows}, default=_cell_to_json, ensure_ascii=False)
    except TypeError:
        return  # an unexpected cell type: later reads parse the file again
    storage, name = record.file.storage, _rows_cache_name(record)
    if storage.exists(name):
        storage.delete(name)
    storage.save(name, ContentFile(gzip.compress(data.encode(), compresslevel=1)))


def _cached_rows(record: HoursImport) -> list[tuple[int, tuple]] | None:
    storage, name = record.file.storage, _rows_cache_name(record)
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as fh:
        kept = json.loads(gzip.decompress(fh.read()), object_hook=_cell_from_json)
    if kept.get("sha256") != record.sha256:
        return None
    return [(row_number, tuple(values)) for row_number, values in kept["rows"]]


def _drop_cached_rows(record: HoursImport) -> None:
    """The parsed rows serve only a later confirm: gone once the file is imported or has failed."""
    storage, name = record.file.storage, _rows_cache_name(record)
    if storage.exists(name):
        storage.delete(name)


def _progress(record: HoursImport, processed: int) -> None:
    HoursImport.objects.filter(pk=record.pk).update(processed_rows=processed)


def _validate(record: HoursImport) -> tuple[list[tuple], int, list[dict], int]:
    """(new rows, unchanged count, errors, total) for the record's file, against today's data."""
    if record.kind == HoursImportKind.REGISTRATION:
        return _validate_registration(record)
    return _validate_provincial(record)


def _one_decimal(hours: Decimal) -> bool:
    # The ledger keeps one decimal place: 7.25 would silently become 7.2 (ticking refuses it too).
    return hours == hours.quantize(Decimal("0.1"))


def _validate_registration(record: HoursImport):
    project = TrainingProject.objects.select_related("organiser").get(pk=record.project_id or 0)
    in_scope: dict[str, tuple[int, str]] = {}
    # ID numbers are matched on their keyed hash: no decrypting every teacher in scope.
    for pk, id_hash, cpd_number, name in projects.organiser_teachers(project).values_list(
        "pk", "id_number_hash", "cpd_number", "name"
    ):
        if id_hash:
            in_scope[id_hash] = (pk, name)
        in_scope[cpd_number] = (pk, name)
    done = projects.registered_teacher_ids(project)
    errors = RowErrors()
    seen: dict[int, int] = {}
    new_rows: list[tuple[int, Decimal]] = []
    unknown: list[tuple[int, str]] = []
    unchanged = total = 0
    for row_number, (key_raw, name_raw, hours_raw, date_raw) in _rows(record):
        total += 1
        if total % PROGRESS_EVERY == 0:
            _progress(record, total)
        key = str(key_raw or "").strip().upper()
        ok = True
        if not key:
            errors.add(row_number, "证件号", _("必填项为空"))
            ok = False
        try:
            hours = parse_decimal(hours_raw)
            if hours <= 0 or hours > project.hours:
                errors.add(row_number, "学时", _("学时须大于0且不超过项目学时 %(max)s") % {"max": project.hours})
                ok = False
            elif not _one_decimal(hours):
                errors.add(row_number, "学时", _("学时最多保留一位小数"))
                ok = False
        except ValueError:
            errors.add(row_number, "学时", _("学时须为数字"))
            ok = False
        try:
            date = parse_date(date_raw)
            if date is not None and date.year != project.year:
                errors.add(row_number, "培训日期", _("日期不在项目年度（%(year)s年）内") % {"year": project.year})
                ok = False
        except ValueError:
            errors.add(row_number, "培训日期", _("日期格式应为 YYYY-MM-DD"))
            ok = False
        if not key:
            continue
        found = in_scope.get(key) or in_scope.get(keyed_hash(key))
        if found is None:
            unknown.append((row_number, key))
            continue
        teacher_id, name = found
        name_text = str(name_raw or "").strip()
        if name_text and name_text != name:
            errors.add(row_number, "姓名", _("姓名与证件号不符"))
            ok = False
        if teacher_id in seen:
            errors.add(row_number, "证件号", _("与第 %(row)s 行是同一位教师") % {"row": seen[teacher_id]})
            ok = False
        seen.setdefault(teacher_id, row_number)
        if not ok:
            continue
        if teacher_id in done:
            unchanged += 1
        else:
            new_rows.append((teacher_id, hours))
    if unknown:
        keys = [k for _r, k in unknown]
        existing: set[str] = set()
        for start in range(0, len(keys), 2000):
            chunk = keys[start : start + 2000]
            existing.update(Teacher.objects.filter(id_number__in=chunk).values_list("id_number", flat=True))
            existing.update(Teacher.objects.filter(cpd_number__in=chunk).values_list("cpd_number", flat=True))
        for row_number, key in unknown:
            errors.add(row_number, "证件号", _("该教师不在本单位的登记范围内") if key in existing else _("未找到该教师"))
    _progress(record, total)
    return new_rows, unchanged, errors.sorted(REGISTRATION_HEADERS), total


def _topic_ref(year: int, teacher_id: int, topic: str) -> str:
    # The same public-subject topic studied twice in a year counts once (SPEC §3).
    return f"prov:{year}:{teacher_id}:{hashlib.sha1(topic.strip().encode()).hexdigest()[:16]}"


def _validate_provincial(record: HoursImport):
    city_path = record.organisation.path
    # Keyed by the ID number's keyed hash: no decrypting every teacher of the city.
    teachers = {
        id_hash: (pk, name)
        for pk, id_hash, name in Teacher.objects.filter(school__path__startswith=city_path).values_list(
            "pk", "id_number_hash", "name"
        )
    }
    errors = RowErrors()
    parsed: list[tuple[int, int, int, str, Decimal]] = []
    years: set[int] = set()
    this_year = timezone.localdate().year
    total = 0
    for row_number, (id_raw, name_raw, topic_raw, hours_raw, year_raw) in _rows(record):
        total += 1
        if total % PROGRESS_EVERY == 0:
            _progress(record, total)
        ok = True
        id_number = str(id_raw or "").strip().upper()
        topic = str(topic_raw or "").strip()
        found = teachers.get(keyed_hash(id_number)) if id_number else None
        if not id_number:
            errors.add(row_number, "身份证号", _("必填项为空"))
            ok = False
        elif found is None:
            errors.add(row_number, "身份证号", _("未找到该教师"))
            ok = False
        elif str(name_raw or "").strip() and str(name_raw).strip() != found[1]:
            errors.add(row_number, "姓名", _("姓名与身份证号不符"))
            ok = False
        if not topic:
            errors.add(row_number, "专题名称", _("必填项为空"))
            ok = False
        elif len(topic) > 200:
            errors.add(row_number, "专题名称", _("超过200个字符"))
            ok = False
        try:
            hours = parse_decimal(hours_raw)
            if hours <= 0 or hours > 200:
                raise ValueError(hours)
            if not _one_decimal(hours):
                errors.add(row_number, "学时", _("学时最多保留一位小数"))
                ok = False
        except ValueError:
            errors.add(row_number, "学时", _("学时须为大于0的数字"))
            ok = False
        try:
            year = int(parse_decimal(year_raw))
            if year < 2000 or year > this_year:
                raise ValueError(year)
        except ValueError:
            errors.add(row_number, "年度", _("年度须为不晚于今年的四位年份"))
            ok = False
        if ok and found is not None:
            parsed.append((row_number, found[0], year, topic, hours))
            years.add(year)
    locked = set(Year.objects.filter(year__in=years, locked_at__isnull=False).values_list("year", flat=True))
    existing = set(
        LedgerEntry.objects.filter(source=Source.PROVINCIAL_IMPORT, year__in=years).values_list("source_ref", flat=True)
    )
    new_rows = []
    unchanged = 0
    seen: set[str] = set()
    for row_number, teacher_id, year, topic, hours in parsed:
        if year in locked:
            errors.add(row_number, "年度", _("%(year)s年度已锁定") % {"year": year})
            continue
        ref = _topic_ref(year, teacher_id, topic)
        if ref in existing or ref in seen:
            unchanged += 1  # already imported, or the same topic twice: counts once
            continue
        seen.add(ref)
        new_rows.append((teacher_id, year, topic, hours, ref))
    _progress(record, total)
    return new_rows, unchanged, errors.sorted(PROVINCIAL_HEADERS), total


def hours_import_validate(import_id: int) -> HoursImport:
    """The dry run: count new and unchanged rows, collect every problem. Writes no hours."""
    record = HoursImport.objects.select_related("organisation", "project").get(pk=import_id)
    if record.status != HoursImportStatus.VALIDATING:
        return record
    try:
        new_rows, unchanged, errors, total = _validate(record)
    except ValidationError as exc:
        errors, new_rows, unchanged, total = [{"row": 0, "column": "", "message": m} for m in exc.messages], [], 0, 0
    HoursImport.objects.filter(pk=record.pk, status=HoursImportStatus.VALIDATING).update(
        status=HoursImportStatus.FAILED if errors else HoursImportStatus.VALIDATED,
        total_rows=total,
        processed_rows=total,
        new_rows=len(new_rows),
        unchanged_rows=unchanged,
        errors=errors[:5000],
    )
    record.refresh_from_db()
    if record.status == HoursImportStatus.FAILED:
        _drop_cached_rows(record)
    return record


# --- confirm -----------------------------------------------------------------------------------------


def hours_import_confirm(*, role: Role, actor, record: HoursImport) -> HoursImport:
    """Start the import of a validated file (a task; eager locally). Refuses a failed or used file."""
    if not imports_visible_to(role).filter(pk=record.pk).exists():
        raise NotFound
    if record.kind == HoursImportKind.REGISTRATION:
        if record.project is None:
            raise NotFound
        projects._require_organiser(role, record.project)
    elif role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以导入省平台公需科目学时。"))
    claimed = HoursImport.objects.filter(pk=record.pk, status=HoursImportStatus.VALIDATED).update(
        status=HoursImportStatus.IMPORTING, processed_rows=0
    )
    if not claimed:
        raise StateConflict(_("只有校验通过且尚未导入的文件可以确认导入。"))
    # A confirm that could not be queued goes back to validated: the same file can be confirmed again.
    enqueue(
        "training.tasks.hours_import_run",
        record.pk,
        actor.pk if actor else None,
        on_failure=lambda _reason: HoursImport.objects.filter(pk=record.pk, status=HoursImportStatus.IMPORTING).update(
            status=HoursImportStatus.VALIDATED
        ),
    )
    record.refresh_from_db()
    return record


def hours_import_run(import_id: int, actor_id: int | None) -> HoursImport:
    """Re-validate against today's data, then insert every new row in one transaction, or nothing."""
    record = HoursImport.objects.select_related("organisation", "project", "project__organiser").get(pk=import_id)
    if record.status != HoursImportStatus.IMPORTING:
        return record
    new_rows, unchanged, errors, total = _validate(record)
    if errors:
        HoursImport.objects.filter(pk=record.pk).update(status=HoursImportStatus.FAILED, errors=errors[:5000])
        record.refresh_from_db()
        _drop_cached_rows(record)
        return record
    try:
        with transaction.atomic():
            if record.kind == HoursImportKind.REGISTRATION:
                project = TrainingProject.objects.select_for_update().select_related("organiser").get(pk=record.project_id or 0)
                projects.check_registration_deadline(project)
                # Rows registered since the dry run (another upload, ticks) are skipped, not doubled.
                done = projects.registered_teacher_ids(project)
                rows = [(tid, h) for tid, h in new_rows if tid not in done]
                count = projects.bulk_register(
                    project=project, rows=rows, actor=actor_id_user(actor_id), note=_("Excel导入 #%(id)s") % {"id": record.pk}
                )
            else:
                count = _insert_provincial(new_rows, actor_id)
            HoursImport.objects.filter(pk=record.pk).update(
                status=HoursImportStatus.IMPORTED,
                imported_count=count,
                unchanged_rows=unchanged + len(new_rows) - count,
                processed_rows=total,
                imported_at=timezone.now(),
            )
    except (StateConflict, IntegrityError) as exc:
        message = getattr(exc, "message", None) or _("导入时数据已变化，未导入任何数据，请重新上传。")
        HoursImport.objects.filter(pk=record.pk).update(
            status=HoursImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": message}]
        )
    record.refresh_from_db()
    if record.status in (HoursImportStatus.IMPORTED, HoursImportStatus.FAILED):
        _drop_cached_rows(record)
    return record


def actor_id_user(actor_id: int | None):
    if actor_id is None:
        return None
    from accounts.models import User

    return User.objects.filter(pk=actor_id).first()


def _insert_provincial(rows: list[tuple[Any, ...]], actor_id: int | None) -> int:
    now = timezone.now()
    entries = [
        dict(
            teacher_id=teacher_id,
            year=year,
            category=Category.PUBLIC,
            hours=hours,
            source=Source.PROVINCIAL_IMPORT,
            title=topic,
            organiser=_("省专业技术人员继续教育平台"),
            source_ref=ref,
            actor_id=actor_id,
            created_at=now,
        )
        for teacher_id, year, topic, hours, ref in rows
    ]
    return ledger.entries_create_many(entries, batch_size=INSERT_BATCH)
