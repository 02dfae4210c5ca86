"""A public topic recorded twice by two routes (the teacher's declaration, then the provincial import)
counts once on every page, in the API, in the exports and in the verdict."""

from __future__ import annotations

import re
from decimal import Decimal

from hours import ledger
from hours.models import Category, LedgerEntry, Source
from tests.verification.conftest import give, result, verify
from training.imports import PROVINCIAL_HEADERS

from .conftest import declare
from .projects_kit import xlsx_upload

D = Decimal


def test_a_public_topic_declared_and_imported_counts_once_everywhere(world, in_year, private_media):
    teacher = world.teachers["teacher_a1"]
    declare(
        world,
        "teacher_a1",
        state="approved",
        category="public",
        activity_type="remote",
        title="师德师风专题",
        hours="20",
        start_date="2026-03-02",
        end_date="2026-03-05",
    )
    upload = world.api("city_admin").post(
        "/api/v1/hours-imports/",
        {
            "kind": "provincial",
            "file": xlsx_upload(PROVINCIAL_HEADERS, [[teacher.id_number, teacher.name, "师德师风专题", 20, 2026]]),
        },
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    confirmed = world.api("city_admin").post(f"/api/v1/hours-imports/{upload.json()['id']}/confirm/").json()
    assert confirmed["imported_count"] == 1
    sources = sorted(LedgerEntry.objects.filter(teacher=teacher, title="师德师风专题").values_list("source", flat=True))
    assert sources == [Source.DECLARATION, Source.PROVINCIAL_IMPORT]  # both routes wrote their entry
    give(teacher, 2026, professional=42, elective=18)

    # 我的学时: 20 public, not 40
    html = world.client("teacher_a1").get("/hours/").content.decode()
    assert re.search(r'data-testid="total-1">([\d.]+)<', html).group(1) == "20.0"
    assert "同一公需科目专题只计一次" in html
    # 年度验证's open-year gap: 10 public hours still missing, 10 in total (80 of 90)
    gap = world.client("teacher_a1").get("/verification/my/").content.decode()
    assert re.search(r'data-testid="missing-public">(?:<strong class="error">)?([\d.]+)<', gap).group(1) == "10.0"
    # the API's figures
    figures = world.api("teacher_a1").get("/api/v1/ledger/figures/?year=2026").json()
    assert (figures["public"], figures["total"]) == ("20.0", "80.0")
    # the verdict
    verify(world, 2026)
    r = result(teacher, 2026)
    assert (r.public, r.total, r.status, r.short_public) == (D(20), D(80), "failed", D(10))
    # A run before the year's last review deadline is provisional (SPEC §9): the school's API shows its
    # figures, the teacher's shows no verdict yet.
    api = world.api("school_a1_admin").get("/api/v1/results/?year=2026").json()["results"]
    assert [(row["public"], row["status"]) for row in api if row["teacher"] == teacher.pk] == [("20.0", "failed")]
    assert world.api("teacher_a1").get("/api/v1/results/?year=2026").json()["results"] == []
    # the provincial export lists the topic once
    assert ledger.public_topics(year=2026, teacher_ids=[teacher.pk]) == {teacher.pk: [("师德师风专题", D(20))]}
    assert ledger.teacher_year_figures(teacher_id=teacher.pk, year=2026).by_category()[Category.PUBLIC] == D(20)
