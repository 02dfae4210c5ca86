"""Spreadsheet bombs (issue 15): every import refuses, before reading a cell, a workbook whose
dimension, cell area, uncompressed size, part size or shared strings are beyond the limits in
settings — with a message saying what is wrong, the process alive and its memory bounded.

Measured on this machine (`python -m tests.xlsx_parse_child FILE`, all four imports' readers in
one process, peak RSS): before the guard the corner bomb aborted the process (calamine asked for
512 GB), 2.5 million shared strings took 209 MB and a 300 MB part 381 MB; with the guard each
is refused at 71-77 MB, which is the process's footprint with Django loaded.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import subprocess
import sys

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import RosterImport
from points.models import PointsImport
from training.models import HoursImport

from . import xlsx_bombs
from .hours.projects_kit import make_project

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Peak resident memory of a process that loads Django and runs the four imports' readers on one
# file. A refused bomb stays at Django's own footprint (about 75 MB); before the guard the
# bombs took 209 MB, 381 MB, or aborted the process.
MEMORY_BUDGET_MB = 150

EXPECTED = {
    "dimension": "声明的范围 A1:XFD1048576 有 1,048,575 行数据，超过上限 100,000 行",
    "corner": "工作表有 1,048,575 行数据，超过上限 100,000 行",
    "shared_strings": "共享字符串有 2,500,000 个，超过上限 2,000,000 个",
    "shared_strings_understated": "共享字符串有",
    "huge_part": "部件“xl/worksheets/sheet1.xml”解压后有 150 MB，超过上限 128 MB",
}


@pytest.mark.parametrize("bomb", sorted(xlsx_bombs.BOMBS))
def test_every_import_refuses_the_bomb_alive_and_within_the_memory_budget(bomb, tmp_path):
    path = tmp_path / f"{bomb}.xlsx"
    path.write_bytes(xlsx_bombs.BOMBS[bomb]())

    child = subprocess.run(
        [sys.executable, "-m", "tests.xlsx_parse_child", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert child.returncode == 0, child.stderr[-2000:]  # alive: not aborted by the reader
    report = json.loads(child.stdout)
    assert set(report["readers"]) == {"roster", "registration", "provincial", "points"}
    for name, outcome in report["readers"].items():
        assert isinstance(outcome, list) and EXPECTED[bomb] in outcome[0], (name, outcome)
    if bomb != "shared_strings_understated":  # its header lies: only the full scan (the reader's) sees it
        assert EXPECTED[bomb] in report["upload"][0]
    assert report["max_rss_mb"] < MEMORY_BUDGET_MB, report


def test_a_cell_beyond_a_modest_declared_dimension_is_still_refused(tmp_path):
    from django.core.exceptions import ValidationError

    from cpd.xlsx_guard import inspect_workbook

    rows = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row><x:row r="9"><x:c r="ZZ9"><x:v>1</x:v></x:c></x:row>'
    sheet = xlsx_bombs._sheet(rows, dimension="A1:B2").replace("<worksheet ", "<x:worksheet xmlns:x='s' ")
    data = xlsx_bombs._workbook(sheet)
    import io

    with pytest.raises(ValidationError) as refused:
        inspect_workbook(io.BytesIO(data), max_rows=100)
    assert "702 列，超过上限 200 列" in refused.value.messages[0]


# --- through the pages and the API: a 400 (or the page's message) and nothing stored ---------------------

HTTP_BOMBS = ["dimension", "corner", "shared_strings", "huge_part"]


@pytest.fixture
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


@pytest.fixture
def in_2026():
    tz = datetime.timezone(datetime.timedelta(hours=8))
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=tz), tick=False):
        yield


def _file(bomb: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("名单.xlsx", xlsx_bombs.BOMBS[bomb](), content_type="application/octet-stream")


@pytest.mark.parametrize("bomb", HTTP_BOMBS)
def test_the_roster_import_answers_400_naming_the_problem(world, private_media, bomb):
    response = world.api("school_a1_admin").post("/api/v1/roster-imports/", {"file": _file(bomb)}, format="multipart")

    assert response.status_code == 400
    assert EXPECTED[bomb] in response.json()["file"][0]
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize("bomb", HTTP_BOMBS)
def test_the_registration_import_answers_400_naming_the_problem(world, private_media, in_2026, bomb):
    project = make_project(world, "school_a1_admin", title="校本研修", kind="school_based")

    response = world.api("school_a1_admin").post(
        "/api/v1/hours-imports/", {"kind": "registration", "project": project.pk, "file": _file(bomb)}, format="multipart"
    )

    assert response.status_code == 400
    assert EXPECTED[bomb] in response.json()["file"][0]
    assert not HoursImport.objects.exists()


@pytest.mark.parametrize("bomb", HTTP_BOMBS)
def test_the_provincial_import_answers_400_naming_the_problem(world, private_media, bomb):
    response = world.api("city_admin").post(
        "/api/v1/hours-imports/", {"kind": "provincial", "file": _file(bomb)}, format="multipart"
    )

    assert response.status_code == 400
    assert EXPECTED[bomb] in response.json()["file"][0]
    assert not HoursImport.objects.exists()


@pytest.mark.parametrize("bomb", HTTP_BOMBS)
def test_the_points_import_page_shows_the_problem_and_keeps_nothing(world, private_media, bomb):
    response = world.client("city_admin").post("/points/import/", {"file": _file(bomb)}, follow=True)

    assert response.status_code == 200
    assert EXPECTED[bomb] in response.content.decode()
    assert not PointsImport.objects.exists()


def test_the_roster_import_page_shows_the_problem(world, private_media):
    response = world.client("school_a1_admin").post("/roster/import/", {"file": _file("dimension")})

    assert response.status_code == 200
    assert EXPECTED["dimension"] in response.content.decode()
    assert not RosterImport.objects.exists()
