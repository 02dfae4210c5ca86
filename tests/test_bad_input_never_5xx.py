"""Bad input never answers 5xx (issue 15): a JSON body that is not an object, a NUL byte in a
filter, a non-number year, JSON nested 5,000 deep — each gets a 400 naming what is wrong."""

from __future__ import annotations

import json

import pytest

NOT_OBJECTS = ["[]", "[1, 2]", '"text"', "42", "null", "true"]

# (persona, path) of every endpoint the issue found answering 500 to a non-object JSON body.
JSON_ENDPOINTS = [
    ("principal_a1", "/api/v1/confirmations/"),
    ("city_admin", "/api/v1/exports/"),
    ("city_admin", "/api/v1/policies/"),
    ("school_a1_admin", "/api/v1/notices/"),
    ("school_a1_admin", "/api/v1/points/exchange-requests/confirm-paid/"),
    ("school_a1_admin", "/api/v1/points/exchange-requests/1/refuse/"),  # the body is read before the lookup
]

# (persona, path, parameter) of every filter the issue found answering 500 to a NUL byte.
NUL_FILTERS = [
    ("school_a1_admin", "/api/v1/teachers/", "q"),
    ("school_a1_admin", "/api/v1/teachers/", "status"),
    ("school_a1_admin", "/api/v1/declarations/", "state"),
    ("principal_a1", "/api/v1/enrolments/", "state"),
    ("school_a1_admin", "/api/v1/points/exchange-requests/", "state"),
    ("teacher_a1", "/api/v1/ledger/", "category"),
    ("school_a1_admin", "/api/v1/results/", "status"),
]


@pytest.mark.parametrize("body", NOT_OBJECTS)
@pytest.mark.parametrize(("persona", "path"), JSON_ENDPOINTS)
def test_a_json_body_that_is_not_an_object_is_a_400(world, persona, path, body):
    response = world.api(persona).post(path, body, content_type="application/json")

    assert response.status_code == 400, (path, body, response.status_code)
    assert response.json()


@pytest.mark.parametrize(("persona", "path", "param"), NUL_FILTERS)
def test_a_nul_byte_in_a_filter_is_a_400_naming_the_parameter(world, persona, path, param):
    response = world.api(persona).get(path, {param: "a\x00b"})

    assert response.status_code == 400, (path, param, response.status_code)
    assert param in response.json()


def test_a_year_that_is_not_a_number_is_a_400(world):
    response = world.api("city_admin").get("/api/v1/statistics/", {"year": "abc"})

    assert response.status_code == 400
    assert "year" in response.json()


def test_json_nested_5000_deep_is_a_400(world):
    body = "[" * 5000 + "]" * 5000
    response = world.api("city_admin").post("/api/v1/exports/", body, content_type="application/json")

    assert response.status_code == 400


def test_the_body_error_says_what_the_body_must_be(world):
    response = world.api("principal_a1").post("/api/v1/confirmations/", "[2025]", content_type="application/json")

    assert "JSON 对象" in response.json()["detail"] and "list" in response.json()["detail"]


def test_json_nested_deeper_than_32_levels_is_a_400_even_when_the_decoder_copes(world):
    body = json.dumps({"year": 2025, "kind": "results", "extra": json.loads("[" * 40 + "]" * 40)})

    response = world.api("city_admin").post("/api/v1/exports/", body, content_type="application/json")

    assert response.status_code == 400 and "32" in response.json()["detail"]


def test_a_nul_byte_in_a_pages_query_is_a_400_too(world):
    response = world.client("school_a1_admin").get("/roster/", {"q": "张\x00"})

    assert response.status_code == 400 and "q" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "path", "params"),
    [
        ("school_a1_admin", "/api/v1/teachers/", {"school": "²"}),
        ("school_a1_admin", "/api/v1/results/", {"year": "²", "school": "9" * 30}),
        ("teacher_a1", "/api/v1/ledger/", {"year": "²"}),
        ("school_a1_admin", "/verification/results/", {"year": "²", "school": "²"}),
        ("city_admin", "/api/v1/statistics/", {"year": "99999999999999999999"}),
    ],
)
def test_numbers_that_are_not_plain_digits_never_make_a_500(world, persona, path, params):
    client = world.client(persona) if not path.startswith("/api/") else world.api(persona)

    response = client.get(path, params)

    assert response.status_code < 500


def test_an_id_number_with_unicode_digits_is_refused_not_a_500(world):
    response = world.api("school_a1_admin").post(
        "/api/v1/teachers/", {"name": "新教师", "id_number": "44010619850601²²²X", "school": world.school_a1.pk}, format="json"
    )

    assert response.status_code == 400


def test_a_page_given_an_id_beyond_the_database_range_is_a_400_not_a_500(world):
    response = world.client("school_a1_admin").get("/verification/results/", {"school": "9" * 30})

    assert response.status_code in (200, 400)
