"""District and city: a labelled exemption box, an upheld complaint leading to the correction, and
the results export naming each teacher's school and district."""

from __future__ import annotations

import io
import re

import openpyxl

from verification.models import ResultComplaint

from .test_scope_and_pages import YEAR, content, download, export, page, verified  # noqa: F401  (fixture)


def test_each_exemption_box_has_a_label_naming_the_teacher(verified):  # noqa: F811
    html = page(verified.client("district_a_admin").get(f"/verification/results/?year={YEAR}"))
    for teacher in ("teacher_a1", "teacher_a2"):
        pk = verified.teachers[teacher].pk
        label = re.search(rf'<label class="sr-only" for="exempt-reason-{pk}">([^<]+)</label>', html)
        assert label and verified.teachers[teacher].name in label.group(1)
        assert f'id="exempt-reason-{pk}"' in html


def test_an_upheld_complaint_leads_to_the_correction_of_the_teachers_hours(verified):  # noqa: F811
    complaint = ResultComplaint.objects.get()
    district = verified.client("district_a_admin")
    done = district.post(
        "/verification/complaints/",
        {"complaint": complaint.pk, "decision": "upheld", "resolution": "安全教育专题应为12学时，已核实"},
        follow=True,
    ).content.decode()

    link = re.search(rf'<a class="btn" href="([^"]+)" data-testid="correct-{complaint.pk}">', done).group(1)
    assert link == f"/verification/complaints/{complaint.pk}/correct/"
    correction = page(district.get(link))
    assert 'name="reason"' in correction and 'data-testid="add-hours"' in correction  # revoke and add
    city_page = page(verified.client("city_admin").get("/verification/complaints/"))
    assert link in city_page  # the city corrects from the complaint too
    assert 'name="reason"' in page(verified.client("city_admin").get(link))


def test_the_city_wide_results_export_names_school_and_district(verified, private_media):  # noqa: F811
    _response, job = export(verified, "city_admin", "results")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(content(download(verified, "city_admin", job)))).active.iter_rows(values_only=True)
    )
    assert rows[0][:4] == ("姓名", "继续教育证号", "学校", "区")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["育才小学老师"][2:4] == ("育才小学", "越秀区")
    assert by_name["南华小学老师"][2:4] == ("南华小学", "海珠区")
    assert by_name["市一中老师"][2:4] == ("市一中", "市直属")
