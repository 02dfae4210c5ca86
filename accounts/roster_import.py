"""Roster import from Excel: template, dry run, atomic confirm.

Every problem is reported as (row number, column, message) with Excel's row numbers
(the header is row 1). Any error means nothing is imported. Re-importing a file
whose teachers are already on this school's roster imports nothing twice: those
rows are counted as unchanged. Reads are set-based: one query per 2,000 IDs, one
for the school codes, bulk inserts.
"""

from __future__ import annotations

import datetime
import hashlib
import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from cpd.errors import NotFound, StateConflict
from cpd.tasks import enqueue
from cpd.xlsx import cell_text, check_upload, iter_rows, parse_date

from . import selectors
from .idnumber import gender_from_id_number, id_number_error, make_id_number, normalise_id_number
from .models import (
    Gender,
    PostType,
    ProfessionalTitle,
    Role,
    RosterImport,
    RosterImportStatus,
    Stage,
    Subject,
    Teacher,
    TeacherEvent,
    TeacherEventKind,
    TeacherStatus,
    User,
)
from .services import cpd_numbers_issue

CHUNK = 2000


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    choices: Any = None  # a TextChoices class


COLUMNS = [
    Column("name", "姓名", required=True),
    Column("id_number", "身份证号", required=True),
    Column("school_code", "学校代码", required=True),
    Column("gender", "性别", choices=Gender),
    Column("stage", "学段", choices=Stage),
    Column("subject", "任教学科", choices=Subject),
    Column("title", "职称", choices=ProfessionalTitle),
    Column("post_type", "岗位类型", choices=PostType),
    Column("first_employment_date", "参加工作日期"),
    Column("phone", "手机号"),
    Column("email", "电子邮箱"),
]
HEADERS = [c.header for c in COLUMNS]


@dataclass
class ImportResult:
    total: int = 0
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


def build_template() -> bytes:
    """An xlsx with the header row, one example row, and drop-downs for the coded columns."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        if cell.value in [c.header for c in COLUMNS if c.required]:
            cell.fill = PatternFill("solid", fgColor="FFF2CC")
    example_id = make_id_number("440106", datetime.date(1985, 6, 1), 12)
    ws.append(["张三", example_id, "SCHOOL-CODE", "男", "小学", "语文", "一级教师", "专任教师", "2005-09-01", "", ""])
    lists = wb.create_sheet("可选值")
    for col_index, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[chr(64 + col_index)].width = 16
        if column.choices is None:
            continue
        labels = [label for _value, label in _choices(column)]
        lists.cell(row=1, column=col_index, value=column.header)
        for i, label in enumerate(labels, start=2):
            lists.cell(row=i, column=col_index, value=label)
        letter = chr(64 + col_index)
        dv = DataValidation(type="list", formula1=f"='可选值'!${letter}$2:${letter}${len(labels) + 1}", allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{settings.ROSTER_IMPORT_MAX_ROWS + 1}")
    notes = wb.create_sheet("说明")
    notes.append(["带底色的列为必填；身份证号为18位并校验末位；日期格式为 YYYY-MM-DD；第2行为示例，导入前请删除。"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def check_file(uploaded) -> None:
    """Refuse at once what is not a small-enough xlsx, before reading any row."""
    check_upload(uploaded, max_bytes=settings.ROSTER_IMPORT_MAX_BYTES, max_rows=settings.ROSTER_IMPORT_MAX_ROWS)


def _choices(column: Column) -> list[tuple[str, str]]:
    """(value, label) of a coded column, labels in Chinese like the template's headers and drop-downs,
    whatever language the page that uploads or downloads the file is in (an English page used to
    write English labels into the template and refuse the Chinese ones it had just offered)."""
    with translation.override(settings.LANGUAGE_CODE):
        return [(value, str(label)) for value, label in column.choices.choices]


def _parse_choice(column: Column, text: str) -> str | None:
    for value, label in _choices(column):
        if text in (value, label):
            return value
    return None


def read_rows(fileobj) -> list[tuple[int, tuple]]:
    """[(excel row number, cell values in COLUMNS order)] of the first sheet; header checked, blank rows skipped."""
    return list(iter_rows(fileobj, headers=HEADERS, max_rows=settings.ROSTER_IMPORT_MAX_ROWS))


def validate_rows(*, role: Role, rows: list[tuple[int, tuple]]) -> ImportResult:
    """Check every row; collect all problems. Writes nothing."""
    result = ImportResult(total=len(rows))
    schools_by_code = {s.code: s for s in selectors.schools_visible_to(role)}
    city_codes = set(selectors.transfer_targets_for(role).values_list("code", flat=True)) | set(schools_by_code)
    parsed: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for row_number, values in rows:
        item: dict[str, Any] = {"row": row_number}
        row_ok = True
        for column, raw in zip(COLUMNS, values, strict=True):
            text = cell_text(raw)
            if column.required and not text:
                result.error(row_number, column.header, _("必填项为空"))
                row_ok = False
                continue
            if not text:
                item[column.key] = None if column.key == "first_employment_date" else ""
                continue
            if column.key == "id_number":
                text = normalise_id_number(text)
                problem = id_number_error(text)
                if problem:
                    result.error(row_number, column.header, problem)
                    row_ok = False
                    continue
                if text in seen_ids:
                    result.error(row_number, column.header, _("与第 %(row)s 行的身份证号重复") % {"row": seen_ids[text]})
                    row_ok = False
                    continue
                seen_ids[text] = row_number
                item["id_number"] = text
            elif column.key == "school_code":
                school = schools_by_code.get(text)
                if school is None:
                    message = _("学校不在您的管理范围内") if text in city_codes else _("未知的学校代码")
                    result.error(row_number, column.header, message)
                    row_ok = False
                    continue
                item["school"] = school
            elif column.choices is not None:
                value = _parse_choice(column, text)
                if value is None:
                    result.error(row_number, column.header, _("“%(value)s”不是可选值") % {"value": text})
                    row_ok = False
                    continue
                item[column.key] = value
            elif column.key == "first_employment_date":
                try:
                    date = parse_date(raw)
                except ValueError:
                    result.error(row_number, column.header, _("日期格式应为 YYYY-MM-DD"))
                    row_ok = False
                    continue
                if date and date > timezone.localdate():
                    result.error(row_number, column.header, _("日期不能晚于今天"))
                    row_ok = False
                    continue
                item[column.key] = date
            elif column.key == "email":
                if "@" not in text:
                    result.error(row_number, column.header, _("电子邮箱格式不正确"))
                    row_ok = False
                    continue
                item[column.key] = text
            else:
                limit = getattr(Teacher._meta.get_field(column.key), "max_length", None)
                if limit and len(text) > limit:
                    result.error(row_number, column.header, _("超过 %(n)s 个字符") % {"n": limit})
                    row_ok = False
                    continue
                item[column.key] = text
        if row_ok:
            parsed.append(item)

    # One query per chunk of IDs: which are already in the database, and where.
    ids = [item["id_number"] for item in parsed]
    existing: dict[str, tuple[int, str]] = {}
    for start in range(0, len(ids), CHUNK):
        for id_number, school_id, name in Teacher.objects.filter(id_number__in=ids[start : start + CHUNK]).values_list(
            "id_number", "school_id", "name"
        ):
            existing[id_number] = (school_id, name)
    for item in parsed:
        found = existing.get(item["id_number"])
        if found is None:
            result.new_rows.append(item)
        elif found == (item["school"].pk, item["name"]):
            result.unchanged += 1  # already on this roster: re-import adds nothing
        else:
            result.error(item["row"], "身份证号", _("该身份证号已在系统中登记（其他学校或其他姓名），如为调动请办理调动"))
    result.errors.sort(key=lambda e: (e["row"], HEADERS.index(e["column"]) if e["column"] in HEADERS else 99))
    return result


def _require_importer(role: Role | None) -> None:
    if not selectors.can_manage_roster(role):
        raise PermissionDenied(_("只有学校管理员可以导入名册。"))


def roster_import_upload(*, role: Role, actor: User, uploaded) -> RosterImport:
    """Store the file and run the dry run. Raises ValidationError for a file that is not usable at all.

    With a broker the web request only checks the file's shape (`check_file`: size, zip directory,
    the parts' heads) and a worker reads it (`roster_import_validate`): the Excel reader's memory
    is the worker's, never the web process's. Without one the dry run runs now, as before.
    """
    _require_importer(role)
    check_file(uploaded)
    content = uploaded.read()
    result = None
    if settings.CELERY_TASK_ALWAYS_EAGER:
        result = validate_rows(role=role, rows=read_rows(io.BytesIO(content)))
    roster_import = RosterImport(
        organisation=role.organisation,
        uploaded_by=actor,
        original_name=getattr(uploaded, "name", "roster.xlsx")[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        status=RosterImportStatus.VALIDATING,
    )
    if result is not None:
        _apply_dry_run(roster_import, result)
    # Platform-generated name; the original name is only kept as text.
    roster_import.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{roster_import.sha256[:16]}.xlsx", ContentFile(content), save=False)
    roster_import.save()
    if result is None:
        # Not queued (broker down): the upload is failed with the reason, so nothing waits; upload again.
        enqueue(
            "accounts.tasks.roster_import_validate",
            roster_import.pk,
            role.pk,
            on_failure=lambda reason: RosterImport.objects.filter(
                pk=roster_import.pk, status=RosterImportStatus.VALIDATING
            ).update(status=RosterImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": reason}]),
        )
    return roster_import


def _apply_dry_run(roster_import: RosterImport, result: ImportResult) -> None:
    roster_import.status = RosterImportStatus.FAILED if result.errors else RosterImportStatus.VALIDATED
    roster_import.total_rows = result.total
    roster_import.new_rows = len(result.new_rows)
    roster_import.unchanged_rows = result.unchanged
    roster_import.errors = result.errors


def roster_import_validate(*, import_id: int, role_id: int) -> RosterImport:
    """The dry run of a stored file (the worker's side of `roster_import_upload`). Idempotent."""
    roster_import = RosterImport.objects.get(pk=import_id)
    if roster_import.status != RosterImportStatus.VALIDATING:
        return roster_import
    role = Role.objects.select_related("organisation").get(pk=role_id)
    try:
        with roster_import.file.open("rb") as fh:
            result = validate_rows(role=role, rows=read_rows(io.BytesIO(fh.read())))
    except ValidationError as exc:
        result = ImportResult()
        for message in exc.messages:
            result.error(0, "", message)
    _apply_dry_run(roster_import, result)
    RosterImport.objects.filter(pk=import_id, status=RosterImportStatus.VALIDATING).update(
        status=roster_import.status,
        total_rows=roster_import.total_rows,
        new_rows=roster_import.new_rows,
        unchanged_rows=roster_import.unchanged_rows,
        errors=roster_import.errors,
    )
    roster_import.refresh_from_db()
    return roster_import


def roster_import_confirm(*, role: Role, actor: User, roster_import: RosterImport) -> RosterImport:
    """Import every new row in one transaction, or nothing. Re-validates against today's data.

    With a broker the file is claimed (`importing`) here and read and imported by a worker
    (`roster_import_run`); without one it is imported now.
    """
    _require_importer(role)
    if not selectors.roster_imports_visible_to(role).filter(pk=roster_import.pk).exists():
        raise NotFound
    if roster_import.status != RosterImportStatus.VALIDATED:
        raise StateConflict(_("此文件有错误或已导入，不能确认导入。"))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return _import(role=role, actor=actor, roster_import=roster_import, expected=RosterImportStatus.VALIDATED)
    claimed = RosterImport.objects.filter(pk=roster_import.pk, status=RosterImportStatus.VALIDATED).update(
        status=RosterImportStatus.IMPORTING
    )
    if not claimed:
        raise StateConflict(_("此文件已导入。"))
    # Not queued (broker down): the file goes back to validated and can be confirmed again.
    enqueue(
        "accounts.tasks.roster_import_run",
        roster_import.pk,
        role.pk,
        actor.pk if actor else None,
        on_failure=lambda _reason: RosterImport.objects.filter(pk=roster_import.pk, status=RosterImportStatus.IMPORTING).update(
            status=RosterImportStatus.VALIDATED
        ),
    )
    roster_import.refresh_from_db()
    return roster_import


def roster_import_run(*, import_id: int, role_id: int, actor_id: int | None) -> RosterImport:
    """The worker's side of `roster_import_confirm`. Idempotent: only an `importing` file is imported."""
    roster_import = RosterImport.objects.get(pk=import_id)
    if roster_import.status != RosterImportStatus.IMPORTING:
        return roster_import
    role = Role.objects.select_related("organisation").get(pk=role_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return _import(role=role, actor=actor, roster_import=roster_import, expected=RosterImportStatus.IMPORTING)
    except (ValidationError, StateConflict) as exc:
        RosterImport.objects.filter(pk=import_id, status=RosterImportStatus.IMPORTING).update(
            status=RosterImportStatus.FAILED, errors=[{"row": 0, "column": "", "message": m} for m in exc.messages]
        )
        roster_import.refresh_from_db()
        return roster_import


def _import(*, role: Role, actor: User | None, roster_import: RosterImport, expected: str) -> RosterImport:
    with roster_import.file.open("rb") as fh:
        rows = read_rows(io.BytesIO(fh.read()))
    result = validate_rows(role=role, rows=rows)
    if result.errors:
        roster_import.status = RosterImportStatus.FAILED
        roster_import.errors = result.errors
        roster_import.save(update_fields=["status", "errors"])
        raise ValidationError({"file": _("导入前复核发现错误，未导入任何数据。")})
    today = timezone.localdate()
    try:
        with transaction.atomic():
            locked = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
            if locked.status != expected:
                raise StateConflict(_("此文件已导入。"))
            numbers = cpd_numbers_issue(count=len(result.new_rows))
            teachers = []
            for item, number in zip(result.new_rows, numbers, strict=True):
                gender = item.get("gender") or gender_from_id_number(item["id_number"])
                teachers.append(
                    Teacher(
                        name=item["name"],
                        id_number=item["id_number"],
                        gender=gender,
                        school=item["school"],
                        stage=item.get("stage") or "",
                        subject=item.get("subject") or "",
                        title=item.get("title") or "",
                        post_type=item.get("post_type") or "",
                        first_employment_date=item.get("first_employment_date"),
                        phone=item.get("phone") or "",
                        email=item.get("email") or "",
                        cpd_number=number,
                        status=TeacherStatus.ACTIVE,
                        status_changed_on=today,
                    )
                )
            created = Teacher.objects.bulk_create(teachers, batch_size=CHUNK)
            if created and created[0].pk is None:  # backends that do not return ids
                by_id = dict(Teacher.objects.filter(cpd_number__in=numbers).values_list("id_number", "pk"))
                for t in created:
                    t.pk = by_id[t.id_number]
            TeacherEvent.objects.bulk_create(
                [
                    TeacherEvent(
                        teacher_id=t.pk,
                        kind=TeacherEventKind.ONBOARDED,
                        effective_date=today,
                        to_school=t.school,
                        to_status=TeacherStatus.ACTIVE,
                        note=_("名册导入 #%(id)s") % {"id": locked.pk},
                        actor=actor,
                    )
                    for t in created
                ],
                batch_size=CHUNK,
            )
            locked.status = RosterImportStatus.IMPORTED
            locked.imported_count = len(created)
            locked.unchanged_rows = result.unchanged
            locked.imported_at = timezone.now()
            locked.save(update_fields=["status", "imported_count", "unchanged_rows", "imported_at"])
    except IntegrityError as exc:
        raise ValidationError({"file": _("导入时发现身份证号已被其他操作登记，未导入任何数据，请重新上传。")}) from exc
    return locked
