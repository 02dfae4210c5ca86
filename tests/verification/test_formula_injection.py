"""Formula injection (issue 15): a teacher named `=cmd|' /C calc'!A0`, a declared training titled
`@SUM(...)` or a school named `-2+3+cmd|...` comes out of every CSV and xlsx export as text
with a leading apostrophe (OWASP), never as a formula; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from cpd.xlsx import neutralise_formula, workbook_bytes
from hours.models import Category, Source
from verification import exports, services
from verification.models import ExportJob, ExportStatus

from .conftest import entry, give, verify

YEAR = 2025
NAME = "=cmd|' /C calc'!A0"
TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"
SCHOOL = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture
def hostile(world, private_media):
    teacher = world.teachers["teacher_a1"]
    teacher.name = NAME
    teacher.save()
    world.school_a1.name = SCHOOL
    world.school_a1.save()
    # The hours of an approved declaration: its title is the ledger entry's title.
    entry(teacher, YEAR, Category.PUBLIC, 30, title=TITLE, source=Source.DECLARATION)
    give(teacher, YEAR, professional=50, elective=18)
    give(world.teachers["teacher_a2"], YEAR, public=30, professional=42, elective=18)
    verify(world, YEAR)
    return world


def _export(world, persona, kind) -> bytes:
    world.client(persona).post("/verification/exports/", {"kind": kind, "year": YEAR})
    job = ExportJob.objects.filter(kind=kind).order_by("-pk").first()
    assert job.status == ExportStatus.READY, job.error
    response = world.client(persona).get(f"/verification/exports/{job.pk}/download/")
    return b"".join(response.streaming_content)


def _xlsx_cells(content: bytes) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [tuple(cell for cell in row) for row in sheet.iter_rows()]


def _assert_text(cell, original: str) -> None:
    assert cell.data_type == "s", (cell.coordinate, cell.data_type, cell.value)  # not a formula ("f")
    assert cell.value.startswith("'" + original[:3]), cell.value


def test_results_export_neutralises_the_teachers_name(hostile):
    rows = _xlsx_cells(_export(hostile, "city_admin", "results"))

    row = next(r for r in rows if NAME in str(r[0].value))
    _assert_text(row[0], NAME)
    total = [c.value for c in rows[0]].index("总学时")  # the export names school and district before the hours
    assert isinstance(row[total].value, int | float) and row[total].value == 98  # total hours: still a number


def test_statistics_export_neutralises_the_schools_name(hostile):
    rows = _xlsx_cells(_export(hostile, "district_a_admin", "statistics"))  # a row per school

    row = next(r for r in rows if SCHOOL in str(r[0].value))
    _assert_text(row[0], SCHOOL)
    assert row[1].data_type == "n"


def test_provincial_xlsx_neutralises_the_name_and_the_declared_title(hostile):
    rows = _xlsx_cells(_export(hostile, "city_admin", "provincial_xlsx"))

    row = next(r for r in rows if NAME in str(r[0].value))
    _assert_text(row[0], NAME)
    _assert_text(row[2], TITLE)  # the public topics: the declared title first
    assert row[3].data_type == "n" and row[3].value == 30


def test_provincial_csv_neutralises_the_name_and_the_declared_title(hostile):
    text = _export(hostile, "city_admin", "provincial_csv").decode("utf-8-sig")

    row = next(r for r in csv.reader(io.StringIO(text)) if NAME in r[0])
    assert row[0] == "'" + NAME
    assert row[2].startswith("'" + TITLE)
    assert Decimal(row[3]) == 30


def test_notice_table_neutralises_the_teachers_name(hostile):
    services.notice_publish(role=hostile.roles["school_a1_admin"], actor=hostile.users["school_a1_admin"], year=YEAR)

    response = hostile.client("school_a1_admin").get(f"/verification/notice/?year={YEAR}&format=xlsx")

    row = next(r for r in _xlsx_cells(response.content) if NAME in str(r[0].value))
    _assert_text(row[0], NAME)
    assert row[6].data_type == "n"


@pytest.mark.cycle
def test_cycle_statistics_export_neutralises_the_schools_name(world):
    world.school_a1.name = SCHOOL
    world.school_a1.save()

    response = world.client("district_a_admin").get("/verification/cycle/statistics/?format=xlsx")

    row = next(r for r in _xlsx_cells(response.content) if SCHOOL in str(r[0].value))
    _assert_text(row[0], SCHOOL)


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_every_owasp_trigger_is_neutralised_and_numbers_are_left_alone(trigger, tmp_path):
    text = f"{trigger}1+1"
    assert neutralise_formula(text) == "'" + text
    assert neutralise_formula(Decimal("-3")) == Decimal("-3")
    assert neutralise_formula(-3) == -3

    path = tmp_path / "e.xlsx"
    exports.write_xlsx(str(path), "t", ["a", "b"], iter([[text, Decimal("-3.5")]]))
    csv_path = tmp_path / "e.csv"
    exports.write_csv(str(csv_path), ["a", "b"], iter([[text, Decimal("-3.5")]]))
    for content in (path.read_bytes(), workbook_bytes(["a", "b"], [[text, Decimal("-3.5")]])):
        cells = _xlsx_cells(content)[1]
        # (an XML reader turns a stored CR into LF)
        assert cells[0].data_type == "s" and cells[0].value == "'" + text.replace("\r", "\n")
        assert cells[1].data_type == "n" and cells[1].value == -3.5
    row = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"), newline="")))[1]
    assert row == ["'" + text, "-3.5"]
