"""Who sees which results, exports and their downloads, the statistics page, the teacher's own page
and the policy pages."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.contrib.staticfiles import finders

from hours.models import Category, Declaration, DeclarationState
from verification import services
from verification.models import CarryRule, Confirmation, ExportJob, ExportStatus, PolicyRevision, ResultComplaint, YearPolicy

from .conftest import CST, entry, give, verify

D = Decimal
YEAR = 2025
NAMES = {"teacher_a1": "育才小学老师", "teacher_a2": "东山中学老师", "teacher_b1": "南华小学老师", "teacher_c1": "市一中老师"}


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def verified(world):
    """2025 (90/30/42/18): a1 passes (public as two topics, professional 50 → carries 8); a2 fails
    (professional 37, 5 short); b1 and c1 pass exactly at the minimums. A complaint by a1 on an open notice."""
    t = world.teachers
    entry(t["teacher_a1"], YEAR, Category.PUBLIC, 20, title="师德师风专题")
    entry(t["teacher_a1"], YEAR, Category.PUBLIC, 10, title="安全教育专题")
    give(t["teacher_a1"], YEAR, professional=50, elective=18)
    give(t["teacher_a2"], YEAR, public=30, professional=37, elective=23)
    give(t["teacher_b1"], YEAR, public=30, professional=42, elective=18)
    give(t["teacher_c1"], YEAR, public=30, professional=42, elective=18)
    verify(world, YEAR)
    services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=YEAR)
    services.complaint_file(
        role=world.roles["teacher_a1"],
        actor=world.users["teacher_a1"],
        year=YEAR,
        field="public",
        message="安全教育专题应为12学时",
    )
    return world


# --- scope ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("school_a1_admin", {"teacher_a1"}),
        ("principal_a1", {"teacher_a1"}),
        ("school_b1_admin", {"teacher_b1"}),
        ("district_a_admin", {"teacher_a1", "teacher_a2"}),
        ("district_b_admin", {"teacher_b1"}),
        ("city_direct_admin", {"teacher_c1"}),
        ("city_admin", {"teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1"}),
    ],
)
def test_results_page_lists_only_the_roles_teachers(verified, persona, visible):
    html = page(verified.client(persona).get(f"/verification/results/?year={YEAR}"))
    shown = {p for p, name in NAMES.items() if name in html}
    assert shown == visible


def test_district_cannot_pick_another_districts_school(verified):
    html = page(verified.client("district_a_admin").get(f"/verification/results/?year={YEAR}&school={verified.school_b1.pk}"))
    assert "南华小学老师" not in html and "没有结果" in html


@pytest.mark.parametrize("persona", ["teacher_a1", "provider"])
def test_results_list_is_not_for_teachers_or_providers(verified, persona):
    assert verified.client(persona).get(f"/verification/results/?year={YEAR}").status_code == 403


def test_teacher_sees_only_their_own_result(verified):
    html = page(verified.client("teacher_a1").get("/verification/my/"))
    assert f'data-testid="result-{YEAR}"' in html
    assert "50.0" in html  # own professional hours
    assert "37.0" not in html  # a2's professional hours
    html = page(verified.client("teacher_a2").get("/verification/my/"))
    assert "37.0" in html and "50.0" not in html


@pytest.mark.parametrize(
    ("persona", "sees_a1_complaint"),
    [
        ("school_a1_admin", True),
        ("school_a2_admin", False),
        ("district_a_admin", True),
        ("district_b_admin", False),
        ("city_direct_admin", False),
        ("city_admin", True),
    ],
)
def test_complaints_page_scope(verified, persona, sees_a1_complaint):
    html = page(verified.client(persona).get("/verification/complaints/"))
    assert ("安全教育专题应为12学时" in html) is sees_a1_complaint


def test_school_admin_sees_only_their_schools_notice(verified):
    a1 = page(verified.client("school_a1_admin").get(f"/verification/notice/?year={YEAR}"))
    assert "育才小学老师" in a1 and 'data-testid="notice-window"' in a1
    a2 = page(verified.client("school_a2_admin").get(f"/verification/notice/?year={YEAR}"))
    assert "育才小学老师" not in a2
    assert 'data-testid="publish-notice"' in a2  # 东山中学 has not published yet
    # a teacher of a school that has not published sees no table
    assert "东山中学老师" not in page(verified.client("teacher_a2").get(f"/verification/notice/?year={YEAR}"))


# --- exports ----------------------------------------------------------------------------------------------------


def export(world, persona, kind, year=YEAR):
    response = world.client(persona).post("/verification/exports/", {"kind": kind, "year": year})
    return response, ExportJob.objects.filter(requested_by=world.users[persona], kind=kind).order_by("-pk").first()


def download(world, persona, job):
    return world.client(persona).get(f"/verification/exports/{job.pk}/download/")


def content(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("kind", ["statistics", "results"])
def test_export_is_built_and_downloadable_only_by_the_requesters_role(verified, private_media, kind):
    world = verified
    response, job = export(world, "district_a_admin", kind)
    assert response.status_code == 302
    assert job.status == ExportStatus.READY, job.error
    assert f'data-testid="download-{job.pk}"' in page(world.client("district_a_admin").get("/verification/exports/"))
    rows = list(
        openpyxl.load_workbook(io.BytesIO(content(download(world, "district_a_admin", job)))).active.iter_rows(values_only=True)
    )
    text = repr(rows)
    if kind == "statistics":
        # one row per school of the district and the total: 育才小学 1 verified 1 passed; 东山中学 1 verified 0 passed
        by_unit = {r[0]: r for r in rows[1:]}
        assert set(by_unit) == {"育才小学", "东山中学", "合计"}
        assert by_unit["合计"][1:7] == (2, 2, 1, 1, 0, 50)  # teachers, verified, passed, failed, exempt, pass rate %
    else:
        assert "育才小学老师" in text and "东山中学老师" in text
    assert "南华小学" not in text and "市一中" not in text
    for persona in ("district_b_admin", "city_admin", "school_a1_admin", "teacher_a1"):
        assert download(world, persona, job).status_code == 404


def test_export_of_a_school_admin_covers_only_the_school(verified, private_media):
    _response, job = export(verified, "school_a1_admin", "results")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(content(download(verified, "school_a1_admin", job)))).active.iter_rows(values_only=True)
    )
    assert [r[0] for r in rows[1:]] == ["育才小学老师"]
    assert download(verified, "principal_a1", job).status_code == 404  # same school, another role


@pytest.mark.parametrize("persona", ["district_a_admin", "city_direct_admin", "school_a1_admin", "principal_a1"])
@pytest.mark.parametrize("kind", ["provincial_xlsx", "provincial_csv"])
def test_only_the_city_may_export_to_the_province(verified, private_media, persona, kind):
    response, job = export(verified, persona, kind)
    assert response.status_code == 403
    assert job is None


@pytest.mark.parametrize("persona", ["teacher_a1", "provider"])
def test_teachers_and_providers_cannot_export(verified, private_media, persona):
    response, job = export(verified, persona, "statistics")
    assert response.status_code == 403 and job is None


def _provincial_a1_row(rows, world):
    assert rows[0][:6] == ("姓名", "身份证号", "公需科目（专题及学时）", "公需科目学时合计", "专业科目学时", "个人选修学时")
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == set(NAMES.values())
    return by_name["育才小学老师"]


def test_provincial_xlsx_carries_full_id_number_and_public_topics(verified, private_media):
    world = verified
    _response, job = export(world, "city_admin", "provincial_xlsx")
    assert job.status == ExportStatus.READY, job.error
    rows = list(
        openpyxl.load_workbook(io.BytesIO(content(download(world, "city_admin", job)))).active.iter_rows(values_only=True)
    )
    row = _provincial_a1_row(rows, world)
    assert row[1] == world.teachers["teacher_a1"].id_number and "*" not in row[1]
    assert re.search(r"师德师风专题（20(\.0)?）", row[2]) and re.search(r"安全教育专题（10(\.0)?）", row[2])
    # public 20 + 10 = 30, professional 50, elective 18
    assert [D(str(v)) for v in row[3:6]] == [D(30), D(50), D(18)]


def test_provincial_csv_carries_the_same_columns(verified, private_media):
    world = verified
    _response, job = export(world, "city_admin", "provincial_csv")
    assert job.filename.endswith(".csv")
    response = download(world, "city_admin", job)
    assert response["Content-Type"].startswith("text/csv")
    rows = [tuple(r) for r in csv.reader(io.StringIO(content(response).decode("utf-8-sig")))]
    row = _provincial_a1_row(rows, world)
    assert row[1] == world.teachers["teacher_a1"].id_number
    assert re.search(r"师德师风专题（20(\.0)?）", row[2]) and re.search(r"安全教育专题（10(\.0)?）", row[2])
    assert [D(v) for v in row[3:6]] == [D(30), D(50), D(18)]


# --- statistics page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "verified_n", "passed", "rate"),
    [
        ("city_admin", 4, 3, "75.0%"),  # 3 of 4 passed
        ("district_a_admin", 2, 1, "50.0%"),  # a1 passed, a2 failed
        ("school_b1_admin", 1, 1, "100.0%"),
    ],
)
def test_statistics_page_shows_verified_passed_and_pass_rate(verified, persona, verified_n, passed, rate):
    html = page(verified.client(persona).get(f"/verification/statistics/?year={YEAR}"))
    assert re.search(rf'data-testid="stat-verified">{verified_n}<', html)
    assert re.search(rf'data-testid="stat-passed">{passed}<', html)
    assert f'data-testid="stat-rate">{rate}<' in html


def test_statistics_page_draws_charts_from_the_vendored_script_only(verified):
    html = page(verified.client("city_admin").get(f"/verification/statistics/?year={YEAR}"))
    assert '<canvas id="chart-units"' in html and '<canvas id="chart-trend"' in html
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js"></script>' in html
    assert 'id="chart-data"' in html
    assert not re.search(r"https?://", html), re.findall(r"https?://\S+", html)
    path = finders.find("vendor/chartjs/chart.umd.min.js")
    assert path is not None
    with open(path, encoding="utf-8") as fh:
        assert "Chart" in fh.read(200_000)


def test_statistics_page_is_not_for_teachers(verified):
    assert verified.client("teacher_a1").get("/verification/statistics/").status_code == 403


# --- the teacher's result page ------------------------------------------------------------------------------------

NOT_EXCELLENT = "验证不合格的年度，年度考核不能评为“优秀”。"


def test_failed_year_says_the_appraisal_cannot_be_excellent(verified):
    html = page(verified.client("teacher_a2").get("/verification/my/"))
    assert NOT_EXCELLENT in html
    assert "专业科目差 5.0" in html  # 42 - 37
    assert NOT_EXCELLENT not in page(verified.client("teacher_a1").get("/verification/my/"))


def _declaration(teacher, state, category, hours, title):
    return Declaration.objects.create(
        teacher=teacher,
        year=2026,
        category=category,
        activity_type="remote",
        title=title,
        organiser="广州市教育研究院",
        start_date=datetime.date(2026, 3, 2),
        end_date=datetime.date(2026, 3, 3),
        hours=D(hours),
        state=state,
    )


def _missing(html, key):
    m = re.search(rf'data-testid="missing-{key}">(?:<strong class="error">)?([\d.]+)<', html)
    assert m, key
    return D(m.group(1))


IN_2026 = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=CST)


def test_open_year_shows_hours_still_missing_and_pending_declarations(verified):
    teacher = verified.teachers["teacher_a2"]  # failed 2025: no carry-in
    entry(teacher, 2026, Category.PUBLIC, 12, title="师德师风专题")
    entry(teacher, 2026, Category.PUBLIC, 12, title="师德师风专题")  # the same topic again counts once
    give(teacher, 2026, public=8, professional=30, elective=18)
    _declaration(teacher, DeclarationState.SUBMITTED, Category.PUBLIC, 6, "网络安全专题")
    _declaration(teacher, DeclarationState.SCHOOL_APPROVED, Category.PROFESSIONAL, 12, "新课标研修")
    _declaration(teacher, DeclarationState.DRAFT, Category.ELECTIVE, 6, "草稿里的培训")
    with time_machine.travel(IN_2026, tick=False):
        html = page(verified.client("teacher_a2").get("/verification/my/"))
    assert 'data-testid="gap"' in html and "2026年度进度" in html
    # public 12 + 8 = 20 → 10 missing; professional 30 → 12; elective 18 → 0; total 68 → 22
    assert [_missing(html, k) for k in ("public", "professional", "elective", "total")] == [D(10), D(12), D(0), D(22)]
    assert "网络安全专题" in html and "新课标研修" in html
    assert "草稿里的培训" not in html


def test_open_year_counts_carry_in_once_after_last_year_is_finalised(verified):
    world = verified
    for unit in (world.district_a, world.district_b, world.city_direct):
        Confirmation.objects.create(organisation=unit, year=YEAR)
    ResultComplaint.objects.update(state="dismissed")
    services.year_finalise(role=world.roles["city_admin"], actor=world.users["city_admin"], year=YEAR)  # a1's 8 go into 2026
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2026, public=30, professional=30, elective=18)
    with time_machine.travel(IN_2026, tick=False):
        html = page(world.client("teacher_a1").get("/verification/my/"))
    # professional 8 carried + 30 = 38 → 4 missing; total 30 + 38 + 18 = 86 → 4 missing
    assert _missing(html, "professional") == D(4)
    assert _missing(html, "total") == D(4)
    assert "含上年结转的专业科目 8.0 学时" in html


def test_current_year_without_policy_has_no_gap_table(verified):
    assert not YearPolicy.objects.filter(year=2027).exists()
    with time_machine.travel(datetime.datetime(2027, 6, 15, 10, 0, tzinfo=CST), tick=False):
        html = page(verified.client("teacher_a1").get("/verification/my/"))
    assert 'data-testid="gap"' not in html
    assert f'data-testid="result-{YEAR}"' in html


# --- policy pages -------------------------------------------------------------------------------------------------


def policy_form(**overrides):
    data = {
        "year": 2026,
        "min_total": "96",
        "min_public": "30",
        "min_professional": "48",
        "min_elective": "18",
        "hours_per_day": "6",
        "carry_rule": CarryRule.RULE_2022,
        "declaration_deadline": "2026-12-31",
        "school_review_deadline": "2027-01-31",
        "district_review_deadline": "2027-03-15",
    }
    data.update(overrides)
    return data


def test_city_admin_edits_a_policy_and_the_change_is_recorded(world):
    with time_machine.travel(IN_2026, tick=False):
        response = world.client("city_admin").post("/verification/policies/", policy_form())
        assert response.status_code == 302
        policy = YearPolicy.objects.get(year=2026)
        assert (policy.min_total, policy.min_professional) == (D(96), D(48))
        revision = PolicyRevision.objects.get(policy=policy)
        assert (revision.actor, revision.created_at) == (world.users["city_admin"], IN_2026)
        assert set(revision.changes) == {"min_total", "min_professional", "district_review_deadline"}
        assert D(revision.changes["min_total"][0]) == D(90) and D(revision.changes["min_total"][1]) == D(96)
        assert revision.changes["district_review_deadline"] == ["2027-02-28", "2027-03-15"]
        html = page(world.client("city_admin").get("/verification/policies/?edit=2026"))
    assert 'data-testid="revisions"' in html and "min_professional" in html


def test_policy_with_minimums_above_the_total_is_refused(world):
    response = world.client("city_admin").post("/verification/policies/", policy_form(min_total="80"))
    assert response.status_code == 200  # the form again, with its error
    assert "各类别最低学时之和不能超过总学时要求" in response.content.decode()
    assert YearPolicy.objects.get(year=2026).min_total == D(90)
    assert not PolicyRevision.objects.exists()


def test_city_admin_creates_a_new_year_as_a_copy_of_the_previous_one(world):
    response = world.client("city_admin").post("/verification/policies/", {"create": "1", "new_year": "2027"})
    assert response.status_code == 302 and response["Location"] == "/verification/policies/?edit=2027"
    new, old = YearPolicy.objects.get(year=2027), YearPolicy.objects.get(year=2026)
    fields = ("min_total", "min_public", "min_professional", "min_elective", "hours_per_day", "carry_rule")
    assert [getattr(new, f) for f in fields] == [getattr(old, f) for f in fields]
    assert PolicyRevision.objects.get(policy=new).changes["copied_from"] == 2026
    # 2020 has no policy; the year before it that has one is 2019
    world.client("city_admin").post("/verification/policies/", {"create": "1", "new_year": "2020"})
    p2020 = YearPolicy.objects.get(year=2020)
    assert (p2020.min_total, p2020.min_elective, p2020.carry_rule) == (D(72), D(0), CarryRule.RULE_2019)
    # an existing year is not created twice
    html = page(world.client("city_admin").post("/verification/policies/", {"create": "1", "new_year": "2026"}, follow=True))
    assert "2026年度的验证标准已存在" in html


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin", "principal_a1", "teacher_a1", "provider"])
def test_policy_pages_are_for_the_city_only(world, persona):
    client = world.client(persona)
    assert client.get("/verification/policies/").status_code == 403
    assert client.post("/verification/policies/", policy_form()).status_code == 403
    assert client.post("/verification/policies/", {"create": "1", "new_year": "2027"}).status_code == 403
    assert YearPolicy.objects.get(year=2026).min_total == D(90)
    assert not YearPolicy.objects.filter(year=2027).exists()
