"""The hours transcript (学时证明): a teacher's verified hours of one year as a Chinese PDF, with a
verification code (HMAC-signed, so it cannot be forged) and a QR code opening the public check page.

Figures are the year's final verification result (what the engine counted) and the counted ledger
entries behind it; nothing is summed here. The PDF embeds a subset of a CJK TrueType font so that
phone viewers without Chinese fonts display it.
"""

from __future__ import annotations

import datetime
import functools
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts.models import Organisation, Teacher
from accounts.selectors import issuing_authority as school_authority
from cpd.pdf_fonts import font_path, register_font
from hours import ledger
from verification.models import VerificationResult

SALT = "cpd.home.transcript"

__all__ = ["font_path", "register_font"]


# --- the code -----------------------------------------------------------------------------------------


def _mac(teacher_id: int, period: str) -> str:
    return salted_hmac(SALT, f"{teacher_id}:{period}", algorithm="sha256").hexdigest()[:20].upper()


def make_code(teacher_id: int, period: str) -> str:
    return f"{teacher_id}-{period}-{_mac(teacher_id, period)}"


def parse_code(code: str) -> tuple[int, str] | None:
    """(teacher id, period) of a genuine code; None for anything forged or malformed."""
    parts = (code or "").strip().upper().split("-")
    if len(parts) != 3 or not parts[0].isdigit() or len(code) > 64:
        return None
    if not (parts[1].isdigit() or (parts[1][:1] == "C" and parts[1][1:].isdigit())):
        return None
    teacher_id, period, mac = int(parts[0]), parts[1], parts[2]
    if not constant_time_compare(mac, _mac(teacher_id, period)):
        return None
    return teacher_id, period


def check_url(code: str) -> str:
    return settings.CPD_SITE_URL + reverse("transcript_check", args=[code])


# --- what a transcript says ---------------------------------------------------------------------------


def issuing_authority(teacher: Teacher) -> str:
    """The city education bureau the teacher's school belongs to (the platform's operator)."""
    return school_authority(teacher.school)


def final_result(teacher: Teacher, year: int) -> VerificationResult | None:
    """The teacher's result for `year` if it is final (never a provisional run)."""
    from .card import final_results

    return next((r for r in final_results(teacher, timezone.localdate()) if r.year == year), None)


@dataclass
class Transcript:
    teacher: Teacher
    year: int
    result: VerificationResult
    entries: list
    code: str
    url: str
    authority: str
    issued_on: datetime.date


def build(teacher: Teacher, year: int) -> Transcript | None:
    from hours.ledger import counted_entries, counted_entry_ids

    result = final_result(teacher, year)
    if result is None:
        return None
    entries = list(counted_entries(year).filter(teacher=teacher).order_by("start_date", "created_at", "pk"))
    # The rule counts a public topic once (its largest entry): the others are listed as not counted.
    counted = counted_entry_ids(year=year, teacher_id=teacher.pk)
    for e in entries:
        e.counted = e.pk in counted
    code = make_code(teacher.pk, str(year))
    return Transcript(teacher, year, result, entries, code, check_url(code), issuing_authority(teacher), timezone.localdate())


def public_check(code: str) -> dict | None:
    """What the public page shows for a code: masked name, period, totals, verdict. Nothing else."""
    from accounts.idnumber import mask_name

    parsed = parse_code(code)
    if parsed is None:
        return None
    teacher_id, period = parsed
    teacher = Teacher.objects.select_related("school").filter(pk=teacher_id).first()
    if teacher is None:
        return None
    if period.startswith("C"):
        c = build_cycle(teacher, int(period[1:]))
        if c is None:
            return None
        return {
            "name": mask_name(teacher.name),
            "period": c.period_label,
            "cycle": True,
            "total": c.total,
            "school_based": c.school_based,
            "status": c.verdict,
            "passed": c.complete,
            "authority": c.authority,
        }
    result = final_result(teacher, int(period))
    if result is None:
        return None
    return {
        "name": mask_name(teacher.name),
        "period": period,
        "public": result.public,
        "professional": result.professional,
        "elective": result.elective,
        "total": result.total,
        "status": result.get_status_display(),
        "passed": result.passed,
        "authority": issuing_authority(teacher),
    }


@dataclass
class CycleTranscript:
    teacher: Teacher
    cycle: object
    period_label: str
    total: object
    school_based: object
    complete: bool
    verdict: str
    entries: list
    code: str
    url: str
    authority: str
    issued_on: datetime.date


def build_cycle(teacher: Teacher, cycle_id: int) -> CycleTranscript | None:
    """A completed cycle (its certificate's figures) or the current one (its progress so far)."""
    from cycles import rules as cycles
    from cycles.models import CycleCertificate, CycleState, TeacherCycle

    cycle = TeacherCycle.objects.filter(teacher=teacher, pk=cycle_id).first()
    if cycle is None:
        return None
    cert = CycleCertificate.objects.filter(cycle=cycle).first()
    if cert is not None:
        total, school_based, complete = cert.total_hours, cert.school_based_hours, True
        verdict = "已完成（学历教育认定）" if cert.exempt_by_degree else "已完成"
    elif cycle.state == CycleState.ACTIVE:
        p = cycles.progress(teacher, timezone.localdate())
        if p.cycle.pk != cycle.pk:
            return None
        total, school_based, complete = p.total, p.school_based, p.complete
        verdict = "已满学时，待发证" if complete else "进行中"
    else:
        return None
    entries = list(
        ledger.cycle_entries(teacher_id=teacher.pk, bounds=cycles.cycle_bounds(cycle)).order_by("end_date", "created_at", "pk")
    )
    for e in entries:
        e.counted = True
    code = make_code(teacher.pk, f"C{cycle.pk}")
    label = f"{cycle.start_date:%Y-%m-%d} ~ {cycle.end_date:%Y-%m-%d}"
    return CycleTranscript(
        teacher,
        cycle,
        label,
        total,
        school_based,
        complete,
        verdict,
        entries,
        code,
        check_url(code),
        issuing_authority(teacher),
        timezone.localdate(),
    )


# --- the PDF ------------------------------------------------------------------------------------------


def _qr_flowable(matrix: list[list[bool]], size: float):
    """The QR code as a flowable that fills one path with each row's runs of dark modules: a shape per
    module (about 700, drawn through reportlab's graphics) was half the time of a transcript's PDF."""
    from reportlab.lib import colors
    from reportlab.platypus import Flowable

    class QrCode(Flowable):
        def wrap(self, *_args):
            return size, size

        def draw(self):
            cell = size / len(matrix)
            path = self.canv.beginPath()
            for y, line in enumerate(matrix):
                x = 0
                while x < len(line):
                    if not line[x]:
                        x += 1
                        continue
                    start = x
                    while x < len(line) and line[x]:
                        x += 1
                    path.rect(start * cell, size - (y + 1) * cell, (x - start) * cell, cell)
            self.canv.setFillColor(colors.black)
            self.canv.drawPath(path, stroke=0, fill=1)

    return QrCode()


def pdf(t: Transcript | CycleTranscript) -> bytes:
    import segno
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_font()
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=24, alignment=1, spaceAfter=6)
    body = ParagraphStyle("b", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    small = ParagraphStyle("s", fontName=font, fontSize=8.5, leading=12, wordWrap="CJK")
    is_cycle = isinstance(t, CycleTranscript)
    r = None if is_cycle else t.result
    teacher = t.teacher
    story = [
        Paragraph("中小学教师继续教育学时证明", title),
        Paragraph(
            f"继续教育周期 {t.period_label}" if is_cycle else f"{t.year}年度", ParagraphStyle("y", parent=body, alignment=1)
        ),
        Spacer(1, 4 * mm),
        Paragraph(f"姓名：{teacher.name}　　身份证号：{teacher.masked_id_number}　　继续教育证号：{teacher.cpd_number}", body),
        Paragraph(f"学校：{teacher.school.name if is_cycle else r.school.name}", body),
        Spacer(1, 3 * mm),
    ]
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 9.5),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    if is_cycle:
        summary = [["周期总学时", "其中校本研修", "周期要求", "结果"], [t.total, t.school_based, "360（校本研修≥80）", t.verdict]]
    else:
        summary = [
            ["公需科目", "专业科目（本年）", "上年结转", "专业科目（含结转）", "个人选修", "总学时", "验证结果", "结转下年"],
            [r.public, r.professional_own, r.carry_in, r.professional, r.elective, r.total, r.get_status_display(), r.carry_out],
        ]
    story += [Table([[str(c) for c in row] for row in summary], style=grid, hAlign="LEFT"), Spacer(1, 4 * mm)]
    story.append(Paragraph("学时明细（已计入）", ParagraphStyle("h", parent=body, fontSize=11, spaceAfter=3)))
    categories = {"public": "公需", "professional": "专业", "elective": "选修"}
    rows = [["日期", "名称", "类别", "学时", "主办单位"]]
    for e in t.entries:
        date = f"{e.end_date:%Y-%m-%d}" if e.end_date else f"{timezone.localdate(e.created_at):%Y-%m-%d}"
        name = e.title + ("" if e.counted else "（同一专题仅计一次）")
        rows.append(
            [
                date,
                Paragraph(name, small),
                categories.get(e.category, e.category) + ("·校本" if is_cycle and e.school_based else ""),
                str(e.hours),
                Paragraph(e.organiser or "", small),
            ]
        )
    if r is not None and r.carry_in:
        rows.append(["", Paragraph(f"{t.year - 1}年度结转的专业科目学时", small), "专业", str(r.carry_in), ""])
    story += [Table(rows, colWidths=[24 * mm, 72 * mm, 14 * mm, 14 * mm, 50 * mm], style=grid, repeatRows=1), Spacer(1, 6 * mm)]

    size = 32 * mm
    drawing = _qr_flowable([list(line) for line in segno.make(t.url, error="m").matrix_iter(border=2)], size)
    footer = [
        Paragraph(f"验证码：{t.code}", body),
        Paragraph(f"扫描二维码或访问 {t.url} 核验本证明。", small),
        Spacer(1, 2 * mm),
        Paragraph(f"出具单位：{t.authority}（教师继续教育管理平台）", body),
        Paragraph(f"出具日期：{t.issued_on:%Y年%m月%d日}", body),
    ]
    story.append(
        Table([[drawing, footer]], colWidths=[size + 4 * mm, 140 * mm], style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    )

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"学时证明 {teacher.name} {t.period_label if is_cycle else t.year}",
        author=t.authority,
    )
    # The canvas starts in the CJK font too (reportlab still declares an unused Helvetica, a base-14 font).
    doc.build(story, canvasmaker=functools.partial(Canvas, initialFontName=font))
    return buffer.getvalue()


def build_school(school: Organisation, year: int) -> list[Transcript]:
    """The transcripts of the school's teachers with a final result for `year`, by name: what `build` makes
    for each, from a few queries for the whole school (its results, their entries, what counts)."""
    from hours.ledger import counted_entries, counted_entry_ids_of

    from .card import only_final

    if year >= timezone.localdate().year:
        return []
    results = only_final(
        VerificationResult.objects.filter(school=school, year=year)
        .select_related("teacher", "teacher__school", "school")
        .order_by("teacher__name", "teacher_id")
    )
    ids = [r.teacher_id for r in results]
    entries: dict[int, list] = {}
    for e in counted_entries(year).filter(teacher_id__in=ids).order_by("teacher_id", "start_date", "created_at", "pk"):
        entries.setdefault(e.teacher_id, []).append(e)
    counted = counted_entry_ids_of(year=year, teacher_ids=ids)
    authorities: dict[int, str] = {}  # by the teacher's school, as `build` says it (one city: one query)
    today = timezone.localdate()
    out = []
    for r in results:
        if r.teacher.school_id not in authorities:
            authorities[r.teacher.school_id] = school_authority(r.teacher.school)
        mine = entries.get(r.teacher_id, [])
        for e in mine:
            e.counted = e.pk in counted.get(r.teacher_id, set())
        code = make_code(r.teacher_id, str(year))
        out.append(Transcript(r.teacher, year, r, mine, code, check_url(code), authorities[r.teacher.school_id], today))
    return out


def school_zip(school: Organisation, year: int, path: str) -> int:
    """The transcripts of the school's teachers with a final result for `year`, as one ZIP written to `path`
    (the body of the export job "transcripts": a PDF per teacher takes tens of milliseconds). Returns how many."""
    transcripts = build_school(school, year)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for t in transcripts:
            zf.writestr(f"{year}-{t.teacher.cpd_number}-{t.teacher.name}.pdf", pdf(t))
    return len(transcripts)


def build_school_zip_export(role, params: dict, path: str) -> str:
    """The export job "transcripts" (verification.exports.BUILDERS): the role's school's ZIP of `year`."""
    year = int(params["year"])
    if school_zip(role.organisation, year, path) == 0:
        raise ValueError(_("还没有已定稿的验证结果。"))
    return f"transcripts-{role.organisation.code}-{year}.zip"
