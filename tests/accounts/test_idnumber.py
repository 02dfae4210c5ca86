"""Resident ID numbers: our validator against python-stdnum, and masking (SPEC §2)."""

from __future__ import annotations

import datetime
import re

import pytest
from stdnum.cn import ric

from accounts.idnumber import id_number_error, make_id_number, mask_id_number
from accounts.models import Teacher

VALID = [
    "360426199101010071",  # stdnum's own example
    "11010519491231002X",  # check digit X
    "11010519491231002x",  # lower-case x is the same number
    make_id_number("110101", datetime.date(1985, 6, 1), 12),
    make_id_number("110105", datetime.date(1972, 2, 29), 501),  # leap day
    make_id_number("310104", datetime.date(2000, 12, 31), 999),
]


def _with_wrong_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


INVALID = {
    "wrong check digit": _with_wrong_check_digit("360426199101010071"),
    "wrong check digit (X expected)": "110105194912310021",
    "month 13": "360426199113010071"[:-1] + ric.calc_check_digit("360426199113010071"),
    "30 February": "360426199102300071"[:-1] + ric.calc_check_digit("360426199102300071"),
    "29 February of a common year": "360426199102290071"[:-1] + ric.calc_check_digit("360426199102290071"),
    "17 characters": "36042619910101007",
    "19 characters": "3604261991010100711",
    "empty": "",
    "letter inside": "3604261991O1010071",
    "letter as check digit": "36042619910101007A",
}


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_with_known_regions_are_accepted_like_stdnum(number):
    assert ric.is_valid(number)
    assert id_number_error(number) is None


@pytest.mark.parametrize("number", INVALID.values(), ids=INVALID.keys())
def test_invalid_numbers_are_rejected_like_stdnum(number):
    assert not ric.is_valid(number)
    assert id_number_error(number) is not None


def test_unknown_region_code_is_accepted_although_stdnum_rejects_it():
    number = make_id_number("999999", datetime.date(1985, 6, 1), 12)
    assert not ric.is_valid(number)
    assert id_number_error(number) is None


def test_region_that_did_not_exist_at_birth_is_accepted():
    # Tianhe district (440106) was created in 1985; older teachers were re-registered there.
    number = make_id_number("440106", datetime.date(1975, 6, 1), 12)
    assert not ric.is_valid(number)
    assert id_number_error(number) is None


def test_unknown_region_with_wrong_check_digit_is_still_rejected():
    number = _with_wrong_check_digit(make_id_number("999999", datetime.date(1985, 6, 1), 12))
    assert id_number_error(number) is not None


def test_birth_date_in_the_future_is_rejected():
    future = datetime.date.today() + datetime.timedelta(days=30)
    assert id_number_error(make_id_number("110101", future, 12)) is not None


def test_mask_keeps_first_and_last_four_characters():
    assert mask_id_number("440104198001011234") == "4401**********1234"


# --- where the number is shown ---------------------------------------------------------------

MASKED = re.compile(r"^\d{4}\*{10}[\dX]{4}$")


def _masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


@pytest.mark.parametrize("persona", ["school_a1_admin", "principal_a1", "district_a_admin", "city_admin"])
def test_admins_see_masked_id_numbers_in_roster_and_detail_pages(world, persona):
    teacher = world.teachers["teacher_a1"]
    client = world.client(persona)
    for url in ("/roster/", f"/roster/{teacher.pk}/"):
        html = client.get(url).content.decode()
        assert _masked(teacher.id_number) in html, url
        assert teacher.id_number not in html, url


def test_searching_the_roster_by_full_id_number_posts_it_and_opens_the_masked_record(world):
    teacher = world.teachers["teacher_a1"]
    client = world.client("school_a1_admin")
    response = client.post("/roster/", {"q": teacher.id_number})
    assert response.status_code == 302
    assert response.url == f"/roster/{teacher.pk}/"
    assert teacher.id_number not in response.url
    html = client.get(response.url).content.decode()
    assert teacher.id_number not in html
    assert _masked(teacher.id_number) in html


def test_an_id_number_out_of_scope_is_not_found(world):
    other = world.teachers["teacher_b1"]
    response = world.client("school_a1_admin").post("/roster/", {"q": other.id_number}, follow=True)
    assert response.redirect_chain[-1][0] == "/roster/"
    assert "没有找到该身份证号的教师" in response.content.decode()


def test_other_roster_searches_become_a_get_without_the_id_number(world):
    teacher = world.teachers["teacher_a1"]
    response = world.client("school_a1_admin").post("/roster/", {"q": teacher.name, "status": "active"})
    assert response.status_code == 302
    assert response.url.startswith("/roster/?")
    assert "status=active" in response.url


def test_an_id_number_in_the_roster_url_is_not_searched(world):
    """A GET that carries an ID number (an old bookmark) does not find by it: searches by ID go in a POST body."""
    teacher = world.teachers["teacher_a1"]
    response = world.client("school_a1_admin").get("/roster/", {"q": teacher.id_number})
    assert list(response.context["page"].object_list) == []


def test_api_finds_by_id_number_in_the_body_only(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("school_a1_admin")
    found = api.post("/api/v1/teachers/find-by-id-number/", {"id_number": teacher.id_number.lower()}, format="json")
    assert found.status_code == 200
    assert [row["id"] for row in found.json()] == [teacher.pk]
    assert found.json()[0]["id_number"] == _masked(teacher.id_number)
    assert api.get("/api/v1/teachers/", {"q": teacher.id_number}).json()["count"] == 0
    other = world.teachers["teacher_b1"]
    assert api.post("/api/v1/teachers/find-by-id-number/", {"id_number": other.id_number}, format="json").json() == []


@pytest.mark.parametrize("persona", ["school_a1_admin", "principal_a1", "district_a_admin", "city_admin"])
def test_admins_see_masked_id_numbers_in_the_api(world, persona):
    teacher = world.teachers["teacher_a1"]
    api = world.api(persona)
    rows = api.get("/api/v1/teachers/").json()["results"]
    assert rows
    for row in rows:
        assert MASKED.match(row["id_number"]), row["id_number"]
    detail = api.get(f"/api/v1/teachers/{teacher.pk}/").json()
    assert detail["id_number"] == _masked(teacher.id_number)
    assert teacher.id_number not in api.get("/api/v1/teachers/").content.decode()


def test_city_admin_sees_masked_id_numbers_in_the_django_admin(world):
    teacher = world.teachers["teacher_a1"]
    client = world.client("city_admin")
    for url in ("/admin/accounts/teacher/", f"/admin/accounts/teacher/{teacher.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert _masked(teacher.id_number) in html, url
        assert teacher.id_number not in html, url


def test_teacher_sees_own_full_id_number_on_my_record(world):
    teacher = world.teachers["teacher_a1"]
    html = world.client("teacher_a1").get("/me/record/").content.decode()
    assert teacher.id_number in html


def test_teacher_sees_own_full_id_number_in_the_api(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("teacher_a1")
    assert api.get("/api/v1/me/").json()["teacher"]["id_number"] == teacher.id_number
    assert api.get(f"/api/v1/teachers/{teacher.pk}/").json()["id_number"] == teacher.id_number


def test_school_admin_who_is_not_the_teacher_gets_the_masked_number_from_me(world):
    assert world.api("school_a1_admin").get("/api/v1/me/").json()["teacher"] is None


# --- onboarding --------------------------------------------------------------------------------


def test_onboarding_with_an_id_already_registered_is_refused_with_a_field_error(world):
    taken = world.teachers["teacher_b1"].id_number
    before = Teacher.objects.count()
    response = world.api("school_a1_admin").post("/api/v1/teachers/", {"name": "新人", "id_number": taken}, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()
    page = world.client("school_a1_admin").post("/roster/add/", {"name": "新人", "id_number": taken})
    assert page.status_code == 200
    assert "id_number" in page.context["form"].errors
    assert Teacher.objects.count() == before


def test_onboarding_with_a_bad_check_digit_is_refused_with_a_field_error(world):
    number = _with_wrong_check_digit(make_id_number("110101", datetime.date(1985, 6, 1), 12))
    response = world.api("school_a1_admin").post("/api/v1/teachers/", {"name": "新人", "id_number": number}, format="json")
    assert response.status_code == 400
    assert "校验位" in response.json()["id_number"][0]
    assert not Teacher.objects.filter(name="新人").exists()


def test_onboarding_normalises_a_lower_case_x_and_derives_gender(world):
    response = world.api("school_a1_admin").post(
        "/api/v1/teachers/", {"name": "新人", "id_number": "11010519491231002x"}, format="json"
    )
    assert response.status_code == 201
    teacher = Teacher.objects.get(name="新人")
    assert (teacher.id_number, teacher.gender, teacher.school) == ("11010519491231002X", "F", world.school_a1)
    assert teacher.cpd_number.startswith("4401")
    assert teacher.events.get().kind == "onboarded"


def test_school_admin_edit_page_keeps_the_id_number_masked_and_blank_keeps_it(world):
    teacher = world.teachers["teacher_a1"]
    client = world.client("school_a1_admin")
    page = client.get(f"/roster/{teacher.pk}/edit/").content.decode()
    assert teacher.id_number not in page
    assert teacher.masked_id_number in page
    data = {
        "name": teacher.name,
        "id_number": "",
        "gender": teacher.gender,
        "stage": teacher.stage,
        "subject": teacher.subject,
        "title": "senior",
        "post_type": teacher.post_type,
        "first_employment_date": teacher.first_employment_date.isoformat(),
        "phone": "",
        "email": "",
    }
    response = client.post(f"/roster/{teacher.pk}/edit/", data)
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert teacher.title == "senior"
    assert teacher.id_number == world.teachers["teacher_a1"].id_number
