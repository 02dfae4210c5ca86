"""Pickers over thousands of schools or teachers search as you type: the page carries no list of
options, and the small endpoint answers what the role may see."""

import re

from accounts.models import OrgKind

from ..factories import OrganisationFactory, TeacherFactory


def test_the_roster_filter_renders_a_search_box_not_a_select_of_every_school(world):
    for i in range(30):
        OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_a, name=f"第{i}中学")
    html = world.client("city_admin").get("/roster/").content.decode()
    assert 'data-picker-url="/pickers/schools/"' in html
    assert "第7中学" not in html  # no <option> per school
    assert '<script src="/static/js/picker.js"' in html


def test_the_school_picker_finds_by_name_within_the_roles_scope_only(world):
    OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_b, name="海珠实验小学")
    OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_a, name="越秀实验小学")
    mine = world.client("district_a_admin").get("/pickers/schools/?q=实验").json()["results"]
    assert [r["label"].split("（")[0] for r in mine] == ["越秀实验小学"]
    city = world.client("city_admin").get("/pickers/schools/?q=实验").json()["results"]
    assert {r["label"].split("（")[0] for r in city} == {"越秀实验小学", "海珠实验小学"}


def test_the_picker_answers_at_most_twenty(world):
    for i in range(25):
        OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_a, name=f"育英{i}校")
    assert len(world.client("city_admin").get("/pickers/schools/?q=育英").json()["results"]) == 20
    assert world.client("city_admin").get("/pickers/schools/?q=").json()["results"] == []


def test_the_teacher_picker_is_scoped_and_shows_no_id_number(world):
    TeacherFactory(school=world.school_b1, name="陈海珠")
    TeacherFactory(school=world.school_a1, name="陈越秀")
    results = world.client("school_a1_admin").get("/pickers/teachers/?q=陈").json()["results"]
    assert [r["label"].split("（")[0] for r in results] == ["陈越秀"]
    assert not re.search(r"\d{17}[\dX]", str(results))


def test_teachers_and_providers_get_no_picker(world):
    assert world.client("teacher_a1").get("/pickers/schools/?q=小学").status_code == 403


def test_choosing_a_school_filters_the_roster_and_keeps_its_name_in_the_box(world):
    TeacherFactory(school=world.school_a2, name="东山老师甲")
    response = world.client("city_admin").get(f"/roster/?school={world.school_a2.pk}&status=")
    names = {t.name for t in response.context["page"]}
    assert "东山老师甲" in names and all(t.school_id == world.school_a2.pk for t in response.context["page"])
    assert 'value="东山中学"' in response.content.decode()


def test_without_script_the_typed_school_name_still_filters(world):
    TeacherFactory(school=world.school_a2, name="东山老师乙")
    response = world.client("city_admin").get("/roster/?school=&school_q=东山&status=")
    assert {t.school_id for t in response.context["page"]} == {world.school_a2.pk}


def test_the_results_page_offers_the_picker_to_area_admins(world):
    html = world.client("district_a_admin").get("/verification/results/?year=2025").content.decode()
    assert 'data-picker-url="/pickers/schools/"' in html
    assert "全部学校" not in html  # the old select's first option
