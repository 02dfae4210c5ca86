"""The hours transcript (学时证明): its figures are the final result's, it embeds its CJK font, its QR
code opens the public check page, which shows only the masked name, period, totals and verdict."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
from django.test import Client

from home import transcript
from verification.models import VerificationResult

from ..verification.conftest import entry, give, verify
from .conftest import at, policy

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm, pdftotext, pdffonts)")


@pytest.fixture
def verified(world, tmp_path):
    """teacher_a1's 2025 hours verified by a final run (after the 2026-02-28 review deadline)."""
    t = world.teachers["teacher_a1"]
    policy(2025)
    entry(t, 2025, "public", 20, title="师德师风专题")
    entry(t, 2025, "public", 12, title="师德师风专题")  # the same topic: counted once
    entry(t, 2025, "public", 12, title="法治教育专题")
    give(t, 2025, professional=44, elective=20)
    give(world.teachers["teacher_a2"], 2025, public=10)
    with at(2026, 3, 5):
        verify(world, 2025)
    return world


def _pdf(world, persona="teacher_a1", year=2025) -> bytes:
    with at(2026, 6, 15):
        response = world.client(persona).get(f"/transcripts/{year}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.content


def _poppler(tool: str, data: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "t.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])], capture_output=True, text=True, check=True
    ).stdout


def test_transcript_figures_equal_the_final_result(verified):
    t = verified.teachers["teacher_a1"]
    with at(2026, 6, 15):
        tr = transcript.build(t, 2025)
    r = VerificationResult.objects.get(teacher=t, year=2025)
    assert tr.result == r and (r.public, r.total) == (32, 96)
    counted = [e for e in tr.entries if e.counted]
    assert sum(e.hours for e in counted if e.category == "public") == r.public
    assert sum(e.hours for e in counted if e.category == "professional") == r.professional_own
    assert [e.title for e in tr.entries if not e.counted] == ["师德师风专题"]


@needs_poppler
def test_pdf_shows_chinese_text_and_the_figures(verified, tmp_path):
    text = _poppler("pdftotext", _pdf(verified), tmp_path, "-layout")
    r = VerificationResult.objects.get(teacher=verified.teachers["teacher_a1"], year=2025)
    assert "中小学教师继续教育学时证明" in text
    assert verified.teachers["teacher_a1"].name in text
    assert str(r.total) in text and "合格" in text
    assert "出具单位：广州市教育局" in text
    assert verified.teachers["teacher_a1"].id_number not in text  # masked on the transcript too


@needs_poppler
def test_pdf_embeds_a_subset_of_its_cjk_font(verified, tmp_path):
    if transcript.font_path() is None:
        pytest.skip("no embeddable CJK font installed")
    fonts = _poppler("pdffonts", _pdf(verified), tmp_path)
    rows = {row[0]: row for row in (line.split() for line in fonts.splitlines()[2:])}
    cjk = [name for name in rows if name.endswith("WenQuanYiMicroHei-0")]
    assert cjk and "+" in cjk[0], fonts  # a subset (tag ABCDEF+Name)
    assert rows[cjk[0]][-5:-3] == ["yes", "yes"], fonts  # embedded, subset
    # reportlab always declares Helvetica (unused here); it is one of the 14 fonts every viewer has.
    assert {name for name, row in rows.items() if row[-5] == "no"} <= {"Helvetica"}, fonts


@needs_poppler
def test_pdf_renders_and_its_qr_code_opens_the_check_url(verified, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    data = _pdf(verified)
    (tmp_path / "t.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(tmp_path / "t.pdf"), str(tmp_path / "page")], check=True
    )
    page = next(tmp_path.glob("page*.png"))
    image = Image.open(page)
    assert image.size[0] > 1000
    # the page is not blank: Chinese text and the table put dark pixels on it
    assert sum(image.convert("L").histogram()[:128]) > 5000
    codes = zxingcpp.read_barcodes(image)
    t = verified.teachers["teacher_a1"]
    assert [c.text for c in codes] == [transcript.check_url(transcript.make_code(t.pk, "2025"))]


def test_qr_matrix_is_the_check_url(verified):
    import segno

    t = verified.teachers["teacher_a1"]
    url = transcript.check_url(transcript.make_code(t.pk, "2025"))
    assert segno.make(url, error="m").matrix == segno.make(url, error="m").matrix
    assert url.endswith(f"/transcripts/check/{transcript.make_code(t.pk, '2025')}/")


def test_public_check_page_shows_only_masked_name_period_totals_and_verdict(verified):
    t = verified.teachers["teacher_a1"]
    code = transcript.make_code(t.pk, "2025")
    with at(2026, 6, 15):
        response = Client().get(f"/transcripts/check/{code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-testid="masked-name">{t.name[0]}{"*" * (len(t.name) - 2)}{t.name[-1]}<' in html
    assert t.name not in html and t.id_number not in html and t.masked_id_number not in html
    assert t.cpd_number not in html
    assert 'data-testid="total">96.0<' in html and 'data-testid="verdict">合格<' in html


@pytest.mark.parametrize(
    "forge",
    [
        lambda code: code[:-1] + ("A" if code[-1] != "A" else "B"),  # signature changed
        lambda code: "9" + code,  # another teacher, same signature
        lambda code: code.replace("-2025-", "-2024-"),  # another year, same signature
        lambda code: "garbage",
    ],
)
def test_a_forged_code_is_refused(verified, forge):
    code = forge(transcript.make_code(verified.teachers["teacher_a1"].pk, "2025"))
    with at(2026, 6, 15):
        response = Client().get("/transcripts/check/", {"code": code})
    assert response.status_code == 404 and 'data-testid="check-refused"' in response.content.decode()


def test_no_transcript_from_a_provisional_run(world):
    policy(2025)
    give(world.teachers["teacher_a1"], 2025, public=30)
    with at(2026, 1, 10):
        verify(world, 2025)  # before the last review deadline: provisional
    with at(2026, 1, 20):
        assert world.client("teacher_a1").get("/transcripts/2025.pdf").status_code == 404
        code = transcript.make_code(world.teachers["teacher_a1"].pk, "2025")
        assert Client().get(f"/transcripts/check/{code}/").status_code == 404


@pytest.fixture
def private_media(settings, tmp_path):
    """Exports are written to a throw-away private media root."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def _zip_export(world, persona: str, year: int, offered: bool = True):
    """The school asks for its transcripts of `year` on the transcripts page's form (the export job, run at
    once here: no broker in tests) and downloads the job's file from the exports page."""
    from verification.models import ExportJob

    client = world.client(persona)
    with at(2026, 6, 15):
        page = client.get("/transcripts/").content.decode()
        assert (f'data-testid="zip-{year}"' in page and 'name="kind" value="transcripts"' in page) == offered
        assert client.post("/verification/exports/", {"kind": "transcripts", "year": year}).status_code == 302
        job = ExportJob.objects.filter(kind="transcripts", requested_by=world.users[persona]).latest("pk")
        if job.status != "ready":
            return job, None
        assert f'data-testid="download-{job.pk}"' in client.get("/verification/exports/").content.decode()
        return job, client.get(f"/verification/exports/{job.pk}/download/")


def test_school_downloads_its_teachers_transcripts_as_one_zip(verified, private_media):
    job, response = _zip_export(verified, "school_a1_admin", 2025)
    _other_job, other = _zip_export(verified, "school_b1_admin", 2025)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert job.filename == f"transcripts-{verified.school_a1.code}-2025.zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert names == [f"2025-{verified.teachers['teacher_a1'].cpd_number}-{verified.teachers['teacher_a1'].name}.pdf"]
    other_names = zipfile.ZipFile(io.BytesIO(b"".join(other.streaming_content))).namelist()
    assert other_names == [f"2025-{verified.teachers['teacher_b1'].cpd_number}-{verified.teachers['teacher_b1'].name}.pdf"]
    # a year without final results: the job fails and says why; a teacher may not ask
    failed, none = _zip_export(verified, "school_a1_admin", 2019, offered=False)
    assert none is None and failed.status == "failed" and failed.error == "还没有已定稿的验证结果。"
    with at(2026, 6, 15):
        assert (
            verified.client("teacher_a1").post("/verification/exports/", {"kind": "transcripts", "year": 2025}).status_code == 403
        )
        assert verified.client("teacher_a1").get("/transcripts/school/2025.zip").status_code == 404


def test_the_school_build_makes_each_teachers_transcript_as_the_teachers_own_does(verified):
    """`build_school` (the ZIP's body) gives each teacher what `build` gives them: the final result, the
    counted entries in order with what is not counted marked, the code and the issuer."""
    with at(2026, 6, 15):
        (school,) = transcript.build_school(verified.school_a1, 2025)
        own = transcript.build(verified.teachers["teacher_a1"], 2025)
    assert (school.teacher, school.year, school.result, school.code, school.url, school.authority) == (
        own.teacher,
        own.year,
        own.result,
        own.code,
        own.url,
        own.authority,
    )
    assert [(e.pk, e.counted) for e in school.entries] == [(e.pk, e.counted) for e in own.entries]
    assert [e.counted for e in own.entries].count(False) == 1  # the second entry of the same public topic


def test_a_schools_transcripts_are_built_in_statements_that_do_not_grow_with_its_teachers(world):
    """One teacher's school and a school of 200 teachers: the same statements to build every transcript."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import TeacherFactory

    policy(2025)
    give(world.teachers["teacher_b1"], 2025, public=30, elective=10)
    for teacher in [world.teachers["teacher_a1"]] + [TeacherFactory(school=world.school_a1) for _ in range(199)]:
        entry(teacher, 2025, "public", 12, title="师德师风专题")
        entry(teacher, 2025, "public", 10, title="师德师风专题")
        give(teacher, 2025, professional=20, elective=10)
    with at(2026, 3, 5):
        verify(world, 2025)

    def statements(school):
        with at(2026, 6, 15), CaptureQueriesContext(connection) as ctx:
            built = transcript.build_school(school, 2025)
        return len(built), len(ctx.captured_queries)

    (few_n, few), (many_n, many) = statements(world.school_b1), statements(world.school_a1)
    assert (few_n, many_n) == (1, 200)
    assert many == few


def test_teacher_lists_downloadable_years(verified):
    with at(2026, 6, 15):
        html = verified.client("teacher_a1").get("/transcripts/").content.decode()
    assert 'href="/transcripts/2025.pdf"' in html
