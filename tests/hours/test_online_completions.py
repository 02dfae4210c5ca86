"""The online learning platform reports course completions; each becomes one ledger entry (SPEC §3 source 1)."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from cpd.platform import platform_client_create
from hours.models import LedgerEntry, Source
from training.models import OnlineCourse

URL = "/api/v1/platform/completions/"


@pytest.fixture
def course(db):
    return OnlineCourse.objects.create(
        code="GX-2025-07", title="人工智能与课堂教学", category="public", hours=Decimal("3"), provider="广州教师研修网"
    )


@pytest.fixture
def key(db):
    _client, key = platform_client_create(name="广州教师研修网")
    return key


def _post(payload, key=None, header=None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Platform {key}")
    return client.post(URL, payload, format="json")


def _payload(world, **overrides):
    data = {
        "completion_id": "C-0001",
        "course_code": "GX-2025-07",
        "teacher": world.teachers["teacher_a1"].id_number,
        "completed_on": "2025-12-30",
    }
    data.update(overrides)
    return data


def test_a_completion_puts_the_courses_hours_in_the_teachers_ledger_for_the_completion_year(world, in_year, course, key):
    response = _post(_payload(world), key)

    assert response.status_code == 201
    assert response.json()["created"] is True
    ledger = world.api("teacher_a1").get("/api/v1/ledger/").json()["results"]
    assert len(ledger) == 1 and ledger[0]["id"] == response.json()["ledger_entry"]
    assert ledger[0]["year"] == 2025 and ledger[0]["category"] == "public" and ledger[0]["hours"] == "3.0"
    assert ledger[0]["title"] == "人工智能与课堂教学" and ledger[0]["source"] == Source.ONLINE_COURSE


def test_a_teacher_may_be_named_by_their_cpd_number(world, in_year, course, key):
    teacher = world.teachers["teacher_b1"]

    response = _post(_payload(world, teacher=teacher.cpd_number), key)

    assert response.status_code == 201
    assert LedgerEntry.objects.get(pk=response.json()["ledger_entry"]).teacher == teacher


def test_the_same_completion_posted_twice_gives_one_entry(world, in_year, course, key):
    first = _post(_payload(world), key)
    second = _post(_payload(world), key)

    assert first.status_code == 201 and second.status_code == 200
    assert second.json() == {"ledger_entry": first.json()["ledger_entry"], "created": False}
    assert LedgerEntry.objects.filter(teacher=world.teachers["teacher_a1"]).count() == 1


def test_two_different_completions_of_the_teacher_give_two_entries(world, in_year, course, key):
    _post(_payload(world), key)
    _post(_payload(world, completion_id="C-0002", completed_on="2026-05-01"), key)

    years = sorted(LedgerEntry.objects.filter(teacher=world.teachers["teacher_a1"]).values_list("year", flat=True))
    assert years == [2025, 2026]


@pytest.mark.parametrize("header", [None, "Platform wrong-key", "Token abc", "Platform"])
def test_without_a_valid_platform_key_the_completion_is_refused_with_401(world, in_year, course, key, header):
    response = _post(_payload(world), header=header)

    assert response.status_code == 401
    assert not LedgerEntry.objects.exists()


def test_a_deactivated_platform_key_is_refused(world, in_year, course):
    client, key = platform_client_create(name="停用的平台")
    client.is_active = False
    client.save()

    assert _post(_payload(world), key).status_code == 401


def test_an_unknown_course_is_refused_naming_the_field(world, in_year, course, key):
    response = _post(_payload(world, course_code="NO-SUCH"), key)

    assert response.status_code == 400 and "course_code" in response.json()
    assert not LedgerEntry.objects.exists()


def test_an_unknown_teacher_is_refused_naming_the_field(world, in_year, course, key):
    response = _post(_payload(world, teacher="440106199001011234"), key)

    assert response.status_code == 400 and "teacher" in response.json()
    assert not LedgerEntry.objects.exists()


def test_a_completion_dated_in_the_future_is_refused(world, in_year, course, key):
    response = _post(_payload(world, completed_on="2026-07-01"), key)

    assert response.status_code == 400 and "completed_on" in response.json()


def test_missing_fields_are_named(world, in_year, course, key):
    response = _post({"completion_id": "C-9"}, key)

    assert response.status_code == 400
    assert {"course_code", "teacher", "completed_on"} <= set(response.json())
