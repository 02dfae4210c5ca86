"""Roster import from Excel: dry run, row/column errors, atomic confirm, limits (SPEC §2)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from accounts.models import RosterImport, RosterImportStatus, Teacher, TeacherEvent, TeacherEventKind, TeacherStatus
from accounts.roster_import import HEADERS
from tests.factories import TeacherFactory, valid_id_number

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def teacher_row(i: int, school: str = "A1", **overrides) -> dict[str, object]:
    row = {
        "姓名": f"导入教师{i}",
        "身份证号": valid_id_number(),
        "学校代码": school,
        "性别": "女",
        "学段": "小学",
        "任教学科": "语文",
        "职称": "一级教师",
        "岗位类型": "专任教师",
        "参加工作日期": "2010-09-01",
        "手机号": "",
        "电子邮箱": "",
    }
    row.update(overrides)
    return row


def make_xlsx(rows: list[dict[str, object]], headers: list[str] = HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name: str = "roster.xlsx"):
    return client.post("/roster/import/", {"file": SimpleUploadedFile(name, content, content_type=XLSX)})


def upload_api(api, content: bytes, name: str = "roster.xlsx"):
    return api.post("/api/v1/roster-imports/", {"file": SimpleUploadedFile(name, content, content_type=XLSX)}, format="multipart")


def dry_run(world, rows) -> RosterImport:
    response = upload(world.client("school_a1_admin"), make_xlsx(rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    return RosterImport.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


# --- dry run ---------------------------------------------------------------------------------


def test_dry_run_in_the_browser_writes_no_teacher(world):
    before = Teacher.objects.count()
    record = dry_run(world, [teacher_row(i) for i in range(100)])
    assert record.status == RosterImportStatus.VALIDATED
    assert (record.total_rows, record.new_rows, record.unchanged_rows) == (100, 100, 0)
    assert Teacher.objects.count() == before
    page = world.client("school_a1_admin").get(f"/roster/import/{record.pk}/").content.decode()
    assert 'data-testid="confirm-import"' in page


def test_dry_run_through_the_api_writes_no_teacher(world):
    before = Teacher.objects.count()
    response = upload_api(world.api("school_a1_admin"), make_xlsx([teacher_row(i) for i in range(100)]))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total_rows"], body["new_rows"], body["errors"]) == ("validated", 100, 100, [])
    assert Teacher.objects.count() == before


def test_one_bad_row_among_100_fails_the_file_and_names_row_and_column(world):
    rows = [teacher_row(i) for i in range(100)]
    rows[56]["身份证号"] = rows[56]["身份证号"][:-1] + ("0" if rows[56]["身份证号"][-1] != "0" else "1")
    record = dry_run(world, rows)
    assert record.status == RosterImportStatus.FAILED
    # Data row 57 sits on Excel row 58: the header is row 1.
    assert [(e["row"], e["column"]) for e in record.errors] == [(58, "身份证号")]
    page = world.client("school_a1_admin").get(f"/roster/import/{record.pk}/").content.decode()
    assert "<td>58</td><td>身份证号</td>" in page
    assert 'data-testid="confirm-import"' not in page


def test_confirming_a_failed_import_in_the_browser_imports_nothing(world):
    rows = [teacher_row(i) for i in range(100)]
    rows[99]["姓名"] = ""
    record = dry_run(world, rows)
    before = Teacher.objects.count()
    response = world.client("school_a1_admin").post(f"/roster/import/{record.pk}/")
    assert response.status_code == 200
    assert Teacher.objects.count() == before
    record.refresh_from_db()
    assert record.status == RosterImportStatus.FAILED


def _row_for_error(world, kind: str) -> dict[str, object]:
    if kind == "bad check digit":
        number = valid_id_number()
        return teacher_row(99, 身份证号=number[:-1] + ("0" if number[-1] != "0" else "1"))
    if kind == "ID already at another school":
        return teacher_row(99, 身份证号=world.teachers["teacher_b1"].id_number, 姓名="南华小学老师")
    if kind == "ID already at this school under another name":
        return teacher_row(99, 身份证号=world.teachers["teacher_a1"].id_number, 姓名="别人")
    if kind == "unknown school code":
        return teacher_row(99, school="NO-SUCH-SCHOOL")
    if kind == "school code out of scope":
        return teacher_row(99, school=world.school_b1.code)
    if kind == "missing name":
        return teacher_row(99, 姓名="")
    if kind == "missing ID number":
        return teacher_row(99, 身份证号="")
    if kind == "missing school code":
        return teacher_row(99, school="")
    if kind == "bad date":
        return teacher_row(99, 参加工作日期="2010-13-45")
    if kind == "date in the future":
        return teacher_row(99, 参加工作日期="2999-01-01")
    if kind == "unknown choice":
        return teacher_row(99, 职称="院士")
    if kind == "bad email":
        return teacher_row(99, 电子邮箱="not-an-email")
    raise AssertionError(kind)


ERROR_CASES = {
    "bad check digit": ("身份证号", "校验位"),
    "ID already at another school": ("身份证号", "已在系统中登记"),
    "ID already at this school under another name": ("身份证号", "已在系统中登记"),
    "unknown school code": ("学校代码", "未知的学校代码"),
    "school code out of scope": ("学校代码", "不在您的管理范围内"),
    "missing name": ("姓名", "必填"),
    "missing ID number": ("身份证号", "必填"),
    "missing school code": ("学校代码", "必填"),
    "bad date": ("参加工作日期", "YYYY-MM-DD"),
    "date in the future": ("参加工作日期", "晚于今天"),
    "unknown choice": ("职称", "院士"),
    "bad email": ("电子邮箱", "邮箱"),
}


@pytest.mark.parametrize("kind", ERROR_CASES)
def test_each_kind_of_bad_row_is_reported_with_row_column_and_reason(world, kind):
    column, reason = ERROR_CASES[kind]
    rows = [teacher_row(i) for i in range(5)]
    rows.insert(3, _row_for_error(world, kind))  # Excel row 5
    before = Teacher.objects.count()
    record = dry_run(world, rows)
    assert record.status == RosterImportStatus.FAILED
    assert len(record.errors) == 1, record.errors
    error = record.errors[0]
    assert (error["row"], error["column"]) == (5, column)
    assert reason in error["message"]
    assert Teacher.objects.count() == before


def test_duplicate_id_within_the_file_names_both_rows(world):
    rows = [teacher_row(i) for i in range(5)]
    rows[4]["身份证号"] = rows[1]["身份证号"]
    record = dry_run(world, rows)
    assert record.status == RosterImportStatus.FAILED
    assert [(e["row"], e["column"]) for e in record.errors] == [(6, "身份证号")]
    assert "3" in record.errors[0]["message"]


def test_every_problem_in_the_file_is_listed_in_row_order(world):
    rows = [teacher_row(i) for i in range(5)]
    rows[3]["姓名"] = ""
    rows[0]["学校代码"] = "NO-SUCH-SCHOOL"
    rows[0]["参加工作日期"] = "yesterday"
    record = dry_run(world, rows)
    assert [(e["row"], e["column"]) for e in record.errors] == [(2, "学校代码"), (2, "参加工作日期"), (5, "姓名")]


# --- confirm -----------------------------------------------------------------------------------


def test_confirm_imports_all_100_teachers_with_history(world):
    rows = [teacher_row(i) for i in range(100)]
    record = dry_run(world, rows)
    response = world.client("school_a1_admin").post(f"/roster/import/{record.pk}/")
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.imported_count) == (RosterImportStatus.IMPORTED, 100)
    imported = Teacher.objects.filter(id_number__in=[r["身份证号"] for r in rows])
    assert imported.count() == 100
    assert set(imported.values_list("school_id", flat=True)) == {world.school_a1.pk}
    assert set(imported.values_list("status", flat=True)) == {TeacherStatus.ACTIVE}
    assert len(set(imported.values_list("cpd_number", flat=True))) == 100
    assert set(imported.values_list("stage", "subject", "title", "gender")) == {("primary", "chinese", "grade1", "F")}
    events = TeacherEvent.objects.filter(teacher__in=imported, kind=TeacherEventKind.ONBOARDED)
    assert events.count() == 100
    assert set(events.values_list("to_school_id", flat=True)) == {world.school_a1.pk}
    # The school admin now sees them on the roster.
    roster = world.client("school_a1_admin").get("/roster/")
    assert roster.context["page"].count == 101  # exact on SQLite (the roster says when it estimates)


def test_confirm_through_the_api_imports_the_rows(world):
    api = world.api("school_a1_admin")
    rows = [teacher_row(i) for i in range(3)]
    record = upload_api(api, make_xlsx(rows)).json()
    response = api.post(f"/api/v1/roster-imports/{record['id']}/confirm/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["imported_count"]) == ("imported", 3)
    assert Teacher.objects.filter(id_number__in=[r["身份证号"] for r in rows]).count() == 3


def test_reuploading_the_same_file_adds_nobody_twice(world):
    rows = [teacher_row(i) for i in range(100)]
    content = make_xlsx(rows)
    client = world.client("school_a1_admin")
    first = RosterImport.objects.get(pk=int(upload(client, content)["Location"].rstrip("/").split("/")[-1]))
    client.post(f"/roster/import/{first.pk}/")
    count = Teacher.objects.count()
    events = TeacherEvent.objects.count()

    second = RosterImport.objects.get(pk=int(upload(client, content)["Location"].rstrip("/").split("/")[-1]))
    assert second.status == RosterImportStatus.VALIDATED
    assert (second.new_rows, second.unchanged_rows) == (0, 100)
    client.post(f"/roster/import/{second.pk}/")
    second.refresh_from_db()
    assert second.imported_count == 0
    assert Teacher.objects.count() == count
    assert TeacherEvent.objects.count() == events


def test_confirming_twice_imports_once(world):
    api = world.api("school_a1_admin")
    record = upload_api(api, make_xlsx([teacher_row(i) for i in range(3)])).json()
    assert api.post(f"/api/v1/roster-imports/{record['id']}/confirm/").status_code == 200
    count = Teacher.objects.count()
    assert api.post(f"/api/v1/roster-imports/{record['id']}/confirm/").status_code == 409
    assert Teacher.objects.count() == count


def test_api_upload_with_errors_is_refused_at_once_and_its_confirm_is_a_conflict(world):
    api = world.api("school_a1_admin")
    response = upload_api(api, make_xlsx([teacher_row(1, 姓名="")]))
    assert response.status_code == 422  # at upload, not a 201 whose confirm fails later
    record = response.json()
    assert record["status"] == "failed" and record["errors"][0]["column"] == "姓名"
    before = Teacher.objects.count()
    response = api.post(f"/api/v1/roster-imports/{record['id']}/confirm/")
    assert response.status_code == 409
    assert Teacher.objects.count() == before


def test_confirm_rechecks_and_refuses_an_id_registered_since_the_dry_run(world):
    api = world.api("school_a1_admin")
    rows = [teacher_row(i) for i in range(3)]
    record = upload_api(api, make_xlsx(rows)).json()
    TeacherFactory(school=world.school_b1, id_number=rows[2]["身份证号"])
    before = Teacher.objects.count()
    response = api.post(f"/api/v1/roster-imports/{record['id']}/confirm/")
    assert response.status_code == 400
    assert Teacher.objects.count() == before
    saved = RosterImport.objects.get(pk=record["id"])
    assert saved.status == RosterImportStatus.FAILED
    assert [(e["row"], e["column"]) for e in saved.errors] == [(4, "身份证号")]


def test_principal_cannot_import(world):
    content = make_xlsx([teacher_row(1)])
    assert upload(world.client("principal_a1"), content).status_code == 403
    assert upload_api(world.api("principal_a1"), content).status_code == 403
    assert not RosterImport.objects.exists()


def test_school_admin_cannot_confirm_another_schools_import(world):
    record = upload_api(world.api("school_b1_admin"), make_xlsx([teacher_row(1, school="B1")])).json()
    assert world.api("school_a1_admin").post(f"/api/v1/roster-imports/{record['id']}/confirm/").status_code == 404
    assert world.client("school_a1_admin").post(f"/roster/import/{record['id']}/").status_code == 404
    assert RosterImport.objects.get(pk=record["id"]).status == RosterImportStatus.VALIDATED


# --- files that are not usable at all ------------------------------------------------------------


def test_text_file_named_xlsx_is_refused_at_once(world):
    content = "姓名,身份证号\n张三,440104198001011234\n".encode()
    response = upload(world.client("school_a1_admin"), content)
    assert response.status_code == 200
    assert "不是 Excel" in response.content.decode()
    response = upload_api(world.api("school_a1_admin"), content)
    assert response.status_code == 400
    assert "不是 Excel" in response.json()["file"][0]
    assert not RosterImport.objects.exists()


def test_zip_that_is_not_a_workbook_is_refused(world):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    response = upload_api(world.api("school_a1_admin"), buffer.getvalue())
    assert response.status_code == 400
    assert "file" in response.json()
    assert not RosterImport.objects.exists()


def test_workbook_without_the_template_header_is_refused(world):
    content = make_xlsx([{"name": "x"}], headers=["name", "id"])
    response = upload_api(world.api("school_a1_admin"), content)
    assert response.status_code == 400
    assert "表头缺少列" in response.json()["file"][0]


def test_file_over_the_size_limit_is_refused(world, settings):
    content = make_xlsx([teacher_row(i) for i in range(20)])
    settings.ROSTER_IMPORT_MAX_BYTES = len(content) - 1
    response = upload(world.client("school_a1_admin"), content)
    assert response.status_code == 200
    assert "10 MB" in response.content.decode()
    assert upload_api(world.api("school_a1_admin"), content).status_code == 400
    assert not RosterImport.objects.exists()


def test_file_at_the_size_limit_is_accepted(world, settings):
    content = make_xlsx([teacher_row(i) for i in range(20)])
    settings.ROSTER_IMPORT_MAX_BYTES = len(content)
    assert upload_api(world.api("school_a1_admin"), content).status_code == 201


def test_file_over_the_row_limit_is_refused(world, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 5
    response = upload_api(world.api("school_a1_admin"), make_xlsx([teacher_row(i) for i in range(6)]))
    assert response.status_code == 400
    assert "5" in response.json()["file"][0]
    assert not RosterImport.objects.exists()
    response = upload(world.client("school_a1_admin"), make_xlsx([teacher_row(i) for i in range(6)]))
    assert response.status_code == 200
    assert "行" in response.context["form"].errors["file"][0]


def test_file_at_the_row_limit_is_accepted(world, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 5
    response = upload_api(world.api("school_a1_admin"), make_xlsx([teacher_row(i) for i in range(5)]))
    assert response.status_code == 201
    assert response.json()["new_rows"] == 5


# --- template --------------------------------------------------------------------------------------


def test_template_download_is_an_xlsx_with_the_headers(world):
    response = world.client("school_a1_admin").get("/roster/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS

    api_response = world.api("school_a1_admin").get("/api/v1/roster-imports/template/")
    assert api_response.status_code == 200
    assert [c.value for c in load_workbook(io.BytesIO(api_response.content)).worksheets[0][1]] == HEADERS


def test_filled_in_template_imports_with_labels_translated_to_codes(world):
    template = world.client("school_a1_admin").get("/roster/import/template.xlsx").content
    wb = load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    number = valid_id_number()
    ws["B2"] = number
    ws["C2"] = "A1"
    buffer = io.BytesIO()
    wb.save(buffer)
    api = world.api("school_a1_admin")
    record = upload_api(api, buffer.getvalue()).json()
    assert (record["status"], record["new_rows"]) == ("validated", 1), record["errors"]
    api.post(f"/api/v1/roster-imports/{record['id']}/confirm/")
    teacher = Teacher.objects.get(id_number=number)
    assert (teacher.gender, teacher.stage, teacher.subject, teacher.title, teacher.post_type) == (
        "M",
        "primary",
        "chinese",
        "grade1",
        "teacher",
    )
    assert str(teacher.first_employment_date) == "2005-09-01"


def test_an_english_page_offers_and_accepts_the_chinese_labels_of_the_template(world, settings):
    """The file's columns are Chinese whatever the page's language: the drop-downs of a template
    downloaded from an English page list the Chinese labels, and an upload from an English page
    reads them (it used to compare them with the English labels and refuse every coded cell)."""
    client = world.client("school_a1_admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    template = load_workbook(io.BytesIO(client.get("/roster/import/template.xlsx").content))
    choices = template["可选值"]
    assert [c.value for c in choices["D"] if c.value] == ["性别", "男", "女"]
    number = valid_id_number()
    response = client.post(
        "/roster/import/",
        {"file": SimpleUploadedFile("roster.xlsx", make_xlsx([teacher_row(1, **{"身份证号": number})]), content_type=XLSX)},
    )
    assert response.status_code == 302
    record = RosterImport.objects.get()
    assert (record.status, record.new_rows, record.errors) == (RosterImportStatus.VALIDATED, 1, [])
    client.post(response["Location"])
    teacher = Teacher.objects.get(id_number=number)
    assert (teacher.gender, teacher.stage, teacher.subject, teacher.title) == ("F", "primary", "chinese", "grade1")
