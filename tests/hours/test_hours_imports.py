"""Bulk hours imports from Excel: attendance registration for a project and provincial
public-subject hours. Upload → dry run (every problem with its row and column, nothing
written) → confirm (all or nothing) → the same file again adds nothing (SPEC §3)."""

import datetime
import io
import pathlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from cpd.celery import app as celery_app
from hours.models import LedgerEntry, Source, Year
from training import imports, projects
from training.imports import PROVINCIAL_HEADERS, REGISTRATION_HEADERS
from training.models import HoursImport, HoursImportStatus

from ..factories import TeacherFactory, valid_id_number
from .projects_kit import at, make_project, xlsx_upload


@pytest.fixture
def project(world, in_year, private_media):
    """A school-based training of 育才小学 (12 hours, March 2026)."""
    return make_project(world, "school_a1_admin", title="校本研修：大单元教学", kind="school_based")


def _row(teacher, hours=12, date="2026-03-02", name=None):
    return [teacher.id_number, teacher.name if name is None else name, hours, date]


def _upload(world, project, rows, persona="school_a1_admin", name="登记.xlsx"):
    return world.api(persona).post(
        "/api/v1/hours-imports/",
        {"kind": "registration", "project": project.pk, "file": xlsx_upload(REGISTRATION_HEADERS, rows, name=name)},
        format="multipart",
    )


def _confirm(world, import_id, persona="school_a1_admin"):
    return world.api(persona).post(f"/api/v1/hours-imports/{import_id}/confirm/")


def _entries(project):
    return LedgerEntry.objects.filter(project=project, source=Source.REGISTRATION)


def _school_teachers(world, n):
    return TeacherFactory.create_batch(n, school=world.school_a1)


# --- registration import: dry run and confirm ---------------------------------------------------------


def test_the_dry_run_counts_the_rows_and_writes_no_hours(world, project):
    teachers = _school_teachers(world, 3)

    response = _upload(world, project, [_row(t) for t in teachers])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "validated" and body["errors"] == []
    assert body["total_rows"] == 3 and body["new_rows"] == 3 and body["unchanged_rows"] == 0
    assert not LedgerEntry.objects.exists()


def test_confirm_imports_every_row_into_the_ledger(world, project):
    teachers = [world.teachers["teacher_a1"], *_school_teachers(world, 4)]
    upload = _upload(world, project, [_row(t, hours=6) for t in teachers]).json()

    confirmed = _confirm(world, upload["id"])

    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "imported" and confirmed.json()["imported_count"] == 5
    assert set(_entries(project).values_list("teacher_id", flat=True)) == {t.pk for t in teachers}
    ledger = world.api("teacher_a1").get("/api/v1/ledger/").json()["results"]
    assert [(e["title"], e["organiser"], e["hours"], e["year"]) for e in ledger] == [
        ("校本研修：大单元教学", "育才小学", "6.0", 2026)
    ]


def test_teachers_may_be_named_by_their_cpd_number(world, project):
    teacher = world.teachers["teacher_a1"]

    upload = _upload(world, project, [[teacher.cpd_number, teacher.name, 12, "2026-03-02"]]).json()
    _confirm(world, upload["id"])

    assert upload["status"] == "validated"
    assert _entries(project).get().teacher == teacher


def test_one_bad_row_among_fifty_fails_the_file_naming_its_row_and_column(world, project):
    teachers = _school_teachers(world, 50)
    rows = [_row(t) for t in teachers]
    rows[35][2] = 13  # Excel row 37: the header is row 1

    response = _upload(world, project, rows)
    confirm = _confirm(world, response.json()["id"])

    body = response.json()
    assert body["status"] == "failed"
    assert len(body["errors"]) == 1
    assert body["errors"][0]["row"] == 37 and body["errors"][0]["column"] == "学时"
    assert "12" in body["errors"][0]["message"]
    assert confirm.status_code == 409
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "case, column, words",
    [
        ("teacher not found", "证件号", "未找到该教师"),
        ("teacher outside the organiser", "证件号", "不在本单位的登记范围内"),
        ("hours above the project", "学时", "不超过项目学时 12"),
        ("hours not a number", "学时", "学时须为数字"),
        ("hours with two decimals", "学时", "一位小数"),
        ("date outside the project year", "培训日期", "2026年"),
        ("date unreadable", "培训日期", "YYYY-MM-DD"),
        ("the same teacher twice", "证件号", "与第 2 行是同一位教师"),
        ("a name that does not match", "姓名", "姓名与证件号不符"),
    ],
)
def test_each_row_problem_is_reported_with_row_and_column(world, project, case, column, words):
    good = world.teachers["teacher_a1"]
    other = TeacherFactory(school=world.school_a1, name="王芳")
    bad = {
        "teacher not found": [valid_id_number(), "查无此人", 12, "2026-03-02"],
        "teacher outside the organiser": _row(world.teachers["teacher_b1"]),
        "hours above the project": _row(other, hours=12.5),
        "hours not a number": _row(other, hours="六"),
        "hours with two decimals": _row(other, hours=7.25),
        "date outside the project year": _row(other, date="2025-12-30"),
        "date unreadable": _row(other, date="三月二日"),
        "the same teacher twice": _row(good),
        "a name that does not match": _row(other, name="王芬"),
    }[case]

    response = _upload(world, project, [_row(good), bad])

    body = response.json()
    assert body["status"] == "failed"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, column)]
    assert words in body["errors"][0]["message"]
    assert not LedgerEntry.objects.exists()


def test_every_problem_of_the_file_is_listed_in_row_order(world, project):
    teacher = world.teachers["teacher_a1"]

    body = _upload(
        world, project, [_row(teacher, hours=0, date="2025-01-01", name="错名"), ["", "", "", ""], [None, "无证件号", 12, None]]
    ).json()

    # Row 3 is blank and skipped; row 4 has no ID.
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "姓名"), (2, "学时"), (2, "培训日期"), (4, "证件号")]


def test_re_uploading_the_same_file_finds_nothing_new_and_its_confirm_adds_nothing(world, project):
    rows = [_row(t) for t in _school_teachers(world, 3)]
    first = _upload(world, project, rows).json()
    _confirm(world, first["id"])

    second = _upload(world, project, rows).json()
    confirmed = _confirm(world, second["id"]).json()

    assert second["status"] == "validated" and second["new_rows"] == 0 and second["unchanged_rows"] == 3
    assert confirmed["status"] == "imported" and confirmed["imported_count"] == 0
    assert _entries(project).count() == 3


def test_teachers_ticked_between_dry_run_and_confirm_are_not_registered_twice(world, project):
    teachers = _school_teachers(world, 3)
    upload = _upload(world, project, [_row(t) for t in teachers]).json()
    projects.registration_register(
        role=world.roles["school_a1_admin"],
        actor=world.users["school_a1_admin"],
        project=project,
        rows=[(teachers[0].pk, Decimal("12"))],
    )

    confirmed = _confirm(world, upload["id"]).json()

    assert confirmed["imported_count"] == 2
    assert _entries(project).filter(teacher=teachers[0]).count() == 1
    assert _entries(project).count() == 3


def test_confirming_twice_is_refused_with_409(world, project):
    upload = _upload(world, project, [_row(world.teachers["teacher_a1"])]).json()
    _confirm(world, upload["id"])

    again = _confirm(world, upload["id"])

    assert again.status_code == 409
    assert _entries(project).count() == 1


def test_a_file_that_is_not_excel_is_refused_at_once(world, project):
    fake = SimpleUploadedFile("登记.xlsx", "证件号,姓名,学时\n".encode(), content_type="text/csv")

    response = world.api("school_a1_admin").post(
        "/api/v1/hours-imports/", {"kind": "registration", "project": project.pk, "file": fake}, format="multipart"
    )

    assert response.status_code == 400 and "file" in response.json()
    assert not HoursImport.objects.exists()


def test_a_file_without_the_templates_columns_is_refused_at_once_naming_them(world, project):
    upload = xlsx_upload(["身份证", "名字"], [["440106198506010125", "张三"]])

    response = world.api("school_a1_admin").post(
        "/api/v1/hours-imports/", {"kind": "registration", "project": project.pk, "file": upload}, format="multipart"
    )

    assert response.status_code == 400
    assert "证件号" in response.json()["file"][0] and "学时" in response.json()["file"][0]
    assert not HoursImport.objects.exists()


def test_a_file_over_the_row_limit_is_refused_at_once(world, project, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    rows = [_row(t) for t in _school_teachers(world, 6)]

    response = _upload(world, project, rows)

    assert response.status_code == 400 and "5" in response.json()["file"][0]
    assert not HoursImport.objects.exists()


def test_a_file_at_the_row_limit_is_accepted(world, project, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 5)

    response = _upload(world, project, [_row(t) for t in _school_teachers(world, 5)])

    assert response.status_code == 201 and response.json()["status"] == "validated"


def test_someone_who_did_not_organise_the_project_cannot_upload(world, project):
    response = _upload(world, project, [_row(world.teachers["teacher_a1"])], persona="district_a_admin")

    assert response.status_code == 403
    assert not HoursImport.objects.exists()


def test_an_upload_after_the_registration_deadline_is_refused_naming_it(world, project, in_year):
    in_year.move_to(at(2027, 2, 1))

    response = _upload(world, project, [_row(world.teachers["teacher_a1"])])

    assert response.status_code == 409 and "2027-01-31" in response.json()["detail"]


def test_upload_and_confirm_on_the_pages(world, project):
    teachers = _school_teachers(world, 2)
    client = world.client("school_a1_admin")
    upload = xlsx_upload(REGISTRATION_HEADERS, [_row(t) for t in teachers])

    uploaded = client.post(f"/hours/projects/{project.pk}/import/", {"file": upload})
    record = HoursImport.objects.get()
    dry_run_page = client.get(uploaded["Location"]).content.decode()
    entries_after_dry_run = _entries(project).count()
    confirmed_page = client.post(f"/hours/imports/{record.pk}/", follow=True).content.decode()
    again_page = client.post(f"/hours/imports/{record.pk}/", follow=True).content.decode()

    assert uploaded.status_code == 302 and uploaded["Location"] == f"/hours/imports/{record.pk}/"
    assert "校验通过：将登记 2 条学时" in dry_run_page
    assert entries_after_dry_run == 0
    assert "已导入" in confirmed_page
    assert _entries(project).count() == 2
    assert "只有校验通过且尚未导入的文件可以确认导入" in again_page
    assert _entries(project).count() == 2


def test_a_bad_file_shows_its_problems_on_the_page_and_offers_no_confirm(world, project):
    client = world.client("school_a1_admin")
    upload = xlsx_upload(REGISTRATION_HEADERS, [_row(world.teachers["teacher_a1"]), _row(world.teachers["teacher_b1"])])

    page = client.post(f"/hours/projects/{project.pk}/import/", {"file": upload}, follow=True).content.decode()

    assert "发现问题，未导入任何数据" in page
    assert "<td>3</td><td>证件号</td><td>该教师不在本单位的登记范围内</td>" in page
    assert 'data-testid="confirm-import"' not in page


def test_not_an_excel_file_on_the_page_says_so(world, project):
    fake = SimpleUploadedFile("登记.xlsx", b"hello", content_type="application/octet-stream")

    page = (
        world.client("school_a1_admin")
        .post(f"/hours/projects/{project.pk}/import/", {"file": fake}, follow=True)
        .content.decode()
    )

    assert "文件不是 Excel（.xlsx）格式" in page
    assert not HoursImport.objects.exists()


# --- provincial public-subject import -------------------------------------------------------------------


def _provincial(world, rows, persona="city_admin"):
    return world.api(persona).post(
        "/api/v1/hours-imports/",
        {"kind": "provincial", "file": xlsx_upload(PROVINCIAL_HEADERS, rows, name="省平台.xlsx")},
        format="multipart",
    )


def _prow(teacher, topic="师德师风专题", hours=6, year=2026, name=None):
    return [teacher.id_number, teacher.name if name is None else name, topic, hours, year]


def test_provincial_hours_land_in_the_ledger_as_public_subjects(world, in_year, private_media):
    upload = _provincial(
        world, [_prow(world.teachers["teacher_a1"]), _prow(world.teachers["teacher_c1"], topic="法治教育", hours=3, year=2025)]
    ).json()

    confirmed = _confirm(world, upload["id"], persona="city_admin").json()

    assert upload["status"] == "validated" and upload["new_rows"] == 2
    assert confirmed["status"] == "imported" and confirmed["imported_count"] == 2
    ledger = world.api("teacher_c1").get("/api/v1/ledger/").json()["results"]
    assert [(e["year"], e["category"], e["title"], e["hours"], e["source"]) for e in ledger] == [
        (2025, "public", "法治教育", "3.0", "provincial_import")
    ]


def test_the_same_topic_twice_in_a_year_counts_once(world, in_year, private_media):
    teacher = world.teachers["teacher_a1"]

    upload = _provincial(world, [_prow(teacher), _prow(teacher, hours=6), _prow(teacher, year=2025)]).json()
    _confirm(world, upload["id"], persona="city_admin")

    assert upload["status"] == "validated" and upload["new_rows"] == 2 and upload["unchanged_rows"] == 1
    years = sorted(LedgerEntry.objects.filter(teacher=teacher, source=Source.PROVINCIAL_IMPORT).values_list("year", flat=True))
    assert years == [2025, 2026]


def test_re_importing_the_same_provincial_file_adds_nothing(world, in_year, private_media):
    rows = [_prow(world.teachers["teacher_a1"]), _prow(world.teachers["teacher_b1"])]
    _confirm(world, _provincial(world, rows).json()["id"], persona="city_admin")

    again = _provincial(world, rows).json()
    confirmed = _confirm(world, again["id"], persona="city_admin").json()

    assert again["new_rows"] == 0 and again["unchanged_rows"] == 2
    assert confirmed["imported_count"] == 0
    assert LedgerEntry.objects.filter(source=Source.PROVINCIAL_IMPORT).count() == 2


def test_a_row_for_a_locked_year_is_a_row_error(world, in_year, private_media):
    Year.objects.update_or_create(year=2025, defaults={**Year.defaults_for(2025), "locked_at": at(2026, 3, 1)})

    body = _provincial(world, [_prow(world.teachers["teacher_a1"]), _prow(world.teachers["teacher_b1"], year=2025)]).json()

    assert body["status"] == "failed"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "年度")]
    assert "2025年度已锁定" in body["errors"][0]["message"]
    assert not LedgerEntry.objects.exists()


def test_provincial_row_problems_are_named(world, in_year, private_media):
    teacher = world.teachers["teacher_a1"]

    body = _provincial(
        world,
        [
            _prow(teacher, name="别人"),
            _prow(teacher, topic="", hours="x"),
            [valid_id_number(), "张三", "专题", 6, 2027],
            _prow(teacher, hours=1.25),
        ],
    ).json()

    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (2, "姓名"),
        (3, "专题名称"),
        (3, "学时"),
        (4, "身份证号"),
        (4, "年度"),
        (5, "学时"),
    ]
    assert "一位小数" in body["errors"][-1]["message"]


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin"])
def test_only_the_city_admin_imports_provincial_hours(world, in_year, private_media, persona):
    response = _provincial(world, [_prow(world.teachers["teacher_a1"])], persona=persona)

    assert response.status_code == 403
    assert not HoursImport.objects.exists()


def test_the_provincial_import_page_is_for_the_city_admin(world, in_year, private_media):
    client = world.client("city_admin")
    upload = xlsx_upload(PROVINCIAL_HEADERS, [_prow(world.teachers["teacher_a1"])], name="省平台.xlsx")

    uploaded = client.post("/hours/provincial/", {"file": upload}, follow=True).content.decode()
    district_page = world.client("district_a_admin").get("/hours/provincial/")

    assert "校验通过：将登记 1 条学时" in uploaded
    assert district_page.status_code == 403


# --- cost ----------------------------------------------------------------------------------------------------


def _validate_queries(world, project, n):
    teachers = _school_teachers(world, n)
    record = HoursImport.objects.get(pk=_upload(world, project, [_row(t) for t in teachers]).json()["id"])
    HoursImport.objects.filter(pk=record.pk).update(status=HoursImportStatus.VALIDATING)
    with CaptureQueriesContext(connection) as ctx:
        result = imports.hours_import_validate(record.pk)
    assert result.status == HoursImportStatus.VALIDATED and result.new_rows == n
    return len(ctx.captured_queries)


def test_validating_200_rows_costs_the_same_queries_as_20(world, project):
    small_project = project
    big_project = make_project(
        world, "school_a1_admin", title="第二期", start_date=datetime.date(2026, 4, 1), end_date=datetime.date(2026, 4, 2)
    )

    small = _validate_queries(world, small_project, 20)
    big = _validate_queries(world, big_project, 200)

    assert small == big


@pytest.mark.parametrize("persona", ["teacher_a1", "principal_a1"])
def test_teachers_and_the_principal_of_the_school_do_not_see_its_import_files(world, project, persona):
    upload = _upload(world, project, [_row(world.teachers["teacher_a1"]), _row(world.teachers["teacher_b1"])]).json()

    listed = world.api(persona).get("/api/v1/hours-imports/").json()["results"]
    detail = world.api(persona).get(f"/api/v1/hours-imports/{upload['id']}/")
    page = world.client(persona).get(f"/hours/imports/{upload['id']}/")

    assert listed == []
    assert detail.status_code == 404 and page.status_code == 404


def test_confirm_checks_the_rows_again_against_todays_roster(world, project):
    # Between the dry run and the confirm, a teacher moved to another district's school.
    teachers = _school_teachers(world, 2)
    upload = _upload(world, project, [_row(t) for t in teachers]).json()
    type(teachers[1]).objects.filter(pk=teachers[1].pk).update(school=world.school_b1)

    confirmed = _confirm(world, upload["id"]).json()

    assert upload["status"] == "validated"
    assert confirmed["status"] == "failed"
    assert [(e["row"], e["column"], e["message"]) for e in confirmed["errors"]] == [(3, "证件号", "该教师不在本单位的登记范围内")]
    assert not _entries(project).exists()


def test_dates_typed_as_excel_dates_are_read_as_dates(world, project):
    teachers = _school_teachers(world, 2)
    rows = [_row(teachers[0], date=datetime.date(2026, 3, 2)), _row(teachers[1], date=datetime.datetime(2026, 3, 3, 9, 30))]

    upload = _upload(world, project, rows).json()
    confirmed = _confirm(world, upload["id"]).json()
    late = _upload(world, project, [_row(world.teachers["teacher_a1"], date=datetime.date(2027, 1, 5))]).json()

    assert upload["status"] == "validated" and confirmed["imported_count"] == 2
    assert [(e["row"], e["column"]) for e in late["errors"]] == [(2, "培训日期")]


def test_with_a_broker_the_dry_run_and_the_confirm_give_the_same_results(world, project, settings, monkeypatch):
    # A worker runs the tasks: the upload only checks the header; the task reads the file.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(imports, "enqueue", lambda name, *args, **_kw: celery_app.tasks[name].apply(args=args, throw=True))
    teachers = _school_teachers(world, 3)

    bad = _upload(world, project, [_row(teachers[0]), _row(teachers[1], hours=13)]).json()
    good = _upload(world, project, [_row(t) for t in teachers]).json()
    confirmed = _confirm(world, good["id"]).json()

    assert bad["status"] == "failed" and [(e["row"], e["column"]) for e in bad["errors"]] == [(3, "学时")]
    assert good["status"] == "validated" and good["new_rows"] == 3
    assert confirmed["status"] == "imported" and confirmed["imported_count"] == 3
    assert _entries(project).count() == 3


def test_a_file_over_the_row_limit_without_a_stated_size_is_refused_at_once(world, project, monkeypatch):
    # openpyxl's write-only mode (and some other tools) do not state the sheet's size up front.
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("登记")
    ws.append(REGISTRATION_HEADERS)
    for t in _school_teachers(world, 6):
        ws.append(_row(t))
    buffer = io.BytesIO()
    wb.save(buffer)
    upload = SimpleUploadedFile("登记.xlsx", buffer.getvalue())

    response = world.api("school_a1_admin").post(
        "/api/v1/hours-imports/", {"kind": "registration", "project": project.pk, "file": upload}, format="multipart"
    )

    assert response.status_code == 400 and "5" in response.json()["file"][0]
    assert not HoursImport.objects.exists()


def test_confirm_reads_the_stored_file_when_the_dry_runs_copy_of_the_rows_is_gone(world, project, private_media):
    teachers = _school_teachers(world, 3)
    upload = _upload(world, project, [_row(t) for t in teachers]).json()
    copies = list(pathlib.Path(private_media).rglob("*.rows.json.gz"))
    for path in copies:
        path.unlink()

    confirmed = _confirm(world, upload["id"]).json()

    assert len(copies) == 1
    assert confirmed["status"] == "imported" and confirmed["imported_count"] == 3


def test_the_dry_runs_copy_of_the_rows_is_removed_once_imported(world, project, private_media):
    teachers = _school_teachers(world, 3)
    upload = _upload(world, project, [_row(t) for t in teachers]).json()
    assert len(list(pathlib.Path(private_media).rglob("*.rows.json.gz"))) == 1

    assert _confirm(world, upload["id"]).json()["status"] == "imported"

    assert list(pathlib.Path(private_media).rglob("*.rows.json.gz")) == []
    assert len(list(pathlib.Path(private_media).rglob("*.xlsx"))) == 1  # the uploaded file itself is kept


def test_a_dry_run_that_fails_keeps_no_copy_of_the_rows(world, project, private_media):
    teachers = _school_teachers(world, 2)
    upload = _upload(world, project, [_row(teachers[0]), _row(teachers[1], hours="abc")]).json()

    assert upload["status"] == "failed"
    assert list(pathlib.Path(private_media).rglob("*.rows.json.gz")) == []
