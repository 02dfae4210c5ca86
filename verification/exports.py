"""Exports: statistics per unit (Excel), the school's notice table (Excel), and the yearly export
to the provincial HR system (xlsx and csv; columns documented in docs/provincial-export.md).

Large exports are built by a Celery task (`ExportJob`) from a server-side cursor
(`iterator(chunk_size=...)`) into a streamed workbook (`write_xlsx`), so memory does not grow with
the number of rows.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind
from cpd.errors import NotFound
from cpd.tasks import enqueue
from cpd.xlsx import XLSX_CONTENT_TYPE, neutralise_row, stream_xlsx
from hours.ledger import public_topics
from security.models import AuditEventKind
from security.services import audit_record

from . import selectors
from .models import ExportJob, ExportStatus, ResultStatus

ITER_CHUNK = 5000
PROVINCIAL_COLUMNS = [
    "姓名",
    "身份证号",
    "公需科目（专题及学时）",
    "公需科目学时合计",
    "专业科目学时",
    "个人选修学时",
    "年度",
    "验证结果",
]
STATS_COLUMNS = [
    "单位",
    "教师数",
    "已验证",
    "合格",
    "不合格",
    "免验",
    "合格率(%)",
    "公需科目学时",
    "专业科目学时",
    "个人选修学时",
    "总学时",
]
RESULT_COLUMNS = ["姓名", "继续教育证号", "公需科目", "专业科目（本年）", "上年结转", "个人选修", "总学时", "结果", "结转下年"]
# The results export spans schools (a district's, the whole city's): each row says where the teacher is.
RESULT_EXPORT_COLUMNS = [*RESULT_COLUMNS[:2], "学校", "区", *RESULT_COLUMNS[2:]]
EXPORT_KINDS = {"statistics", "provincial_xlsx", "provincial_csv", "results", "transcripts"}
# Kinds whose file an app above this one builds (registered in its AppConfig.ready): "transcripts", the
# school's transcripts as a ZIP (home). The builder writes the file at the path given and returns its name.
BUILDERS: dict[str, Callable[[Role, dict, str], str]] = {}
CONTENT_TYPES = {".csv": "text/csv; charset=utf-8", ".zip": "application/zip"}


def register_builder(kind: str, build: Callable[[Role, dict, str], str]) -> None:
    BUILDERS[kind] = build


def content_type_of(filename: str) -> str:
    """What a ready export is served as: csv, zip, or else a workbook."""
    return next((t for ext, t in CONTENT_TYPES.items() if filename.endswith(ext)), XLSX_CONTENT_TYPE)


def stats_rows(role: Role, year: int) -> Iterator[list]:
    for r in selectors.statistics_by_unit(role, year):
        yield [
            r["unit"].name,
            r["teachers"],
            r.get("verified") or 0,
            r.get("passed") or 0,
            r.get("failed") or 0,
            r.get("exempt") or 0,
            r["pass_rate"],
            r["public"],
            r["professional"],
            r["elective"],
            r["total_hours"],
        ]
    total = selectors.statistics_total(role, year)
    yield [
        _("合计"),
        total["teachers"],
        total.get("verified") or 0,
        total.get("passed") or 0,
        total.get("failed") or 0,
        total.get("exempt") or 0,
        total["pass_rate"],
        total["public"],
        total["professional"],
        total["elective"],
        total["total_hours"],
    ]


def result_rows(role: Role, year: int, school_id: int | None = None) -> Iterator[list]:
    qs = selectors.results_visible_to(role).filter(year=year)
    if school_id:
        qs = qs.filter(school_id=school_id)
    labels = {value: str(label) for value, label in ResultStatus.choices}  # translated once, not per row
    for r in (
        qs.order_by("school_id", "teacher__name")
        .values_list(
            "teacher__name",
            "teacher__cpd_number",
            "school__name",
            "school__parent__name",
            "public",
            "professional_own",
            "carry_in",
            "elective",
            "total",
            "status",
            "carry_out",
        )
        .iterator(chunk_size=ITER_CHUNK)
    ):
        yield [*r[:9], str(labels.get(r[9], r[9])), r[10]]


def provincial_rows(role: Role, year: int) -> Iterator[list]:
    """Per verified teacher: name, full ID number (the export must carry it), public topics with hours,
    professional hours (including carry-in), elective hours."""
    labels = {value: str(label) for value, label in ResultStatus.choices}  # translated once, not per row
    results = selectors.results_visible_to(role).filter(year=year).order_by("teacher_id")
    batch: list[tuple] = []
    for row in results.values_list(
        "teacher_id", "teacher__name", "teacher__id_number", "public", "professional", "elective", "status"
    ).iterator(chunk_size=ITER_CHUNK):
        batch.append(row)
        if len(batch) >= ITER_CHUNK:
            yield from _provincial_batch(batch, year, labels)
            batch = []
    if batch:
        yield from _provincial_batch(batch, year, labels)


def _provincial_batch(batch: list[tuple], year: int, labels: dict) -> Iterator[list]:
    topics = public_topics(year=year, teacher_ids=[r[0] for r in batch])
    for teacher_id, name, id_number, public, professional, elective, status in batch:
        text = "；".join(f"{title}（{hours}）" for title, hours in topics.get(teacher_id, []))
        yield [name, id_number, text, public, professional, elective, year, str(labels.get(status, status))]


def write_xlsx(path: str, title: str, columns: list[str], rows: Iterator[list]) -> None:
    """A one-sheet workbook streamed row by row (`cpd.xlsx.stream_xlsx`: constant memory, about ten times
    faster than openpyxl's write-only mode; 200,000 rows of 9 columns took 40 s there, see
    bench/bench_stats_export.py); a text that starts a formula is neutralised, as in every export."""
    stream_xlsx(path, title, columns, rows)


def write_csv(path: str, columns: list[str], rows: Iterator[list]) -> None:
    # UTF-8 with BOM so that Excel opens the Chinese text correctly.
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(neutralise_row(row))


def export_request(*, role: Role, actor, kind: str, year: int, school_id: int | None = None) -> ExportJob:
    """Queue an export; it is offered as a download when the task has built it."""
    if kind not in EXPORT_KINDS:
        raise ValidationError({"kind": _("未知的导出类型。")})
    if role is None or role.kind == RoleKind.TEACHER or role.kind == RoleKind.PROVIDER:
        raise PermissionDenied(_("您当前的角色不能导出。"))
    if kind.startswith("provincial") and role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以导出省人社系统数据。"))
    if kind == "transcripts" and role.kind not in (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL):
        raise PermissionDenied(_("只有学校可以导出本校的学时证明。"))
    if school_id is not None and not selectors.results_visible_to(role).filter(school_id=school_id).exists():
        raise NotFound
    job = ExportJob.objects.create(
        kind=kind,
        params={"year": year, "school_id": school_id, "role_id": role.pk},
        organisation=role.organisation,
        requested_by=actor,
    )
    audit_record(
        event=AuditEventKind.EXPORT,
        actor=actor,
        role=role,
        obj=job,
        details={"kind": kind, "year": year, "school_id": school_id, "full_id_numbers": kind.startswith("provincial")},
    )
    enqueue("verification.tasks.build_export", job.pk, on_failure=lambda reason: export_fail(job_id=job.pk, reason=reason))
    job.refresh_from_db()
    return job


def export_fail(*, job_id: int, reason: str) -> None:
    """Mark a pending export failed (its task could not be queued): the user requests it again."""
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def export_build(job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("organisation").get(pk=job_id)
    if job.status != ExportStatus.PENDING:
        return job
    role = Role.objects.select_related("organisation").get(pk=job.params["role_id"])
    year = job.params["year"]
    try:
        with tempfile.NamedTemporaryFile(suffix=".tmp") as tmp:
            if job.kind == "statistics":
                name = f"statistics-{job.organisation.code}-{year}.xlsx"
                write_xlsx(tmp.name, _("统计"), STATS_COLUMNS, stats_rows(role, year))
            elif job.kind == "results":
                name = f"results-{job.organisation.code}-{year}.xlsx"
                write_xlsx(tmp.name, _("验证结果"), RESULT_EXPORT_COLUMNS, result_rows(role, year, job.params.get("school_id")))
            elif job.kind == "provincial_xlsx":
                name = f"provincial-{year}.xlsx"
                write_xlsx(tmp.name, str(year), PROVINCIAL_COLUMNS, provincial_rows(role, year))
            elif job.kind in BUILDERS:
                name = BUILDERS[job.kind](role, job.params, tmp.name)
            else:
                name = f"provincial-{year}.csv"
                write_csv(tmp.name, PROVINCIAL_COLUMNS, provincial_rows(role, year))
            with open(tmp.name, "rb") as fh:
                job.file.save(f"{job.pk}-{name}", File(fh), save=False)
        job.filename = name
        job.status = ExportStatus.READY
    except Exception as exc:  # the user sees the failure on the export page instead of a spinner forever
        job.status = ExportStatus.FAILED
        job.error = str(exc)[:2000]
    job.finished_at = timezone.now()
    job.save()
    return job


def exports_visible_to(role: Role | None):
    if role is None:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(organisation=role.organisation, params__role_id=role.pk)
