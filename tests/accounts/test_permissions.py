"""One check for "the current role must be one of …" (accounts.permissions), for pages and the API,
and the domain NotFound mapped to 404 once (cpd.errors.NotFound)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import RoleKind
from accounts.permissions import require_role, role_is, role_required
from cpd.errors import NotFound


@role_required(RoleKind.CITY_ADMIN, RoleKind.DISTRICT_ADMIN)
def _area_page(request):
    return HttpResponse("ok")


def _request(role):
    request = RequestFactory().get("/")
    request.role = role
    return request


def test_the_decorator_lets_the_named_roles_in(world):
    assert _area_page(_request(world.roles["city_admin"])).content == b"ok"
    assert _area_page(_request(world.roles["district_a_admin"])).content == b"ok"


@pytest.mark.parametrize("persona", ["teacher_a1", "school_a1_admin", "principal_a1", "provider", None])
def test_the_decorator_refuses_every_other_role_and_no_role(world, persona):
    with pytest.raises(PermissionDenied):
        _area_page(_request(world.roles[persona] if persona else None))


def test_any_role_will_do_when_none_is_named(world):
    assert require_role(_request(world.roles["provider"])) == world.roles["provider"]
    assert role_is(world.roles["teacher_a1"]) and not role_is(None)


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("city_admin", "/hours/"),  # a teacher's page
        ("teacher_a1", "/hours/review/"),  # reviewers only
        ("city_admin", "/hours/review/"),  # the city does not review declarations
        ("teacher_a1", "/roster/"),
        ("school_a1_admin", "/verification/runs/"),  # the city's page
        ("teacher_a1", "/points/rules/"),
    ],
)
def test_a_page_for_other_roles_answers_403(world, persona, path):
    assert world.client(persona).get(path).status_code == 403


@pytest.mark.parametrize(
    ("persona", "method", "path", "status"),
    [
        ("teacher_a1", "get", "/api/v1/statistics/", 403),
        ("provider", "get", "/api/v1/statistics/", 403),
        ("school_a1_admin", "get", "/api/v1/statistics/", 200),
        ("school_a1_admin", "patch", "/api/v1/years/2026/", 403),
    ],
)
def test_an_api_endpoint_for_other_roles_answers_403(world, persona, method, path, status):
    response = getattr(world.api(persona), method)(path, {}, format="json")
    assert response.status_code == status


def test_without_a_role_the_api_says_so(world):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    response = client.get("/api/v1/statistics/")
    english = client.get("/api/v1/statistics/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and response.json()["detail"] == "您没有可用的角色。"  # in the request's language
    assert english.json()["detail"] == "You have no role to act in."


def test_a_services_not_found_is_404_on_a_page_and_in_the_api(world, monkeypatch):
    from hours import services

    def missing(**kwargs):
        raise NotFound

    monkeypatch.setattr(services, "declaration_transition", missing)
    assert world.client("teacher_a1").post("/hours/declarations/999999/submit/").status_code == 404
    assert world.api("school_a1_admin").post("/api/v1/declarations/999999/approve/", {}, format="json").status_code == 404
