"""The lists not covered elsewhere cost the same number of queries with 2 rows as with 200: roster,
teachers API, results (page and API), statistics (page and API), pickers, organisations (page and API)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OrgKind
from verification.models import ResultStatus, VerificationResult
from verification.services import statistics_refresh

from ..factories import OrganisationFactory, TeacherFactory

YEAR = 2023

PAGES = [
    ("city_admin", "/roster/?status=", "client"),
    ("school_a1_admin", "/roster/?status=", "client"),
    ("city_admin", "/roster/?q=同名&status=", "client"),
    ("city_admin", "/api/v1/teachers/", "api"),
    ("district_a_admin", "/api/v1/teachers/?school={school}", "api"),
    ("city_admin", f"/api/v1/results/?year={YEAR}", "api"),
    ("district_a_admin", f"/verification/results/?year={YEAR}", "client"),
    ("city_admin", f"/verification/results/?year={YEAR}&school={{school}}", "client"),
    ("city_admin", f"/api/v1/statistics/?year={YEAR}", "api"),
    ("district_a_admin", f"/verification/statistics/?year={YEAR}", "client"),
    ("city_admin", "/pickers/schools/?q=分校", "client"),
    ("city_admin", "/pickers/teachers/?q=同名", "client"),
    ("city_admin", "/orgs/", "client"),
    ("district_a_admin", "/orgs/", "client"),
    ("city_admin", "/orgs/?overdue=1", "client"),
    ("city_admin", "/api/v1/organisations/", "api"),
    ("city_admin", f"/verification/statistics/?year={YEAR}", "client"),
]


def _add(world, n):
    """n teachers (with a result each) in school a1 and n new schools in district a."""
    teachers = TeacherFactory.create_batch(n, school=world.school_a1, name="同名老师")
    VerificationResult.objects.bulk_create(
        VerificationResult(teacher=t, year=YEAR, school=world.school_a1, status=ResultStatus.PASSED) for t in teachers
    )
    for i in range(n):
        OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_a, name=f"第{i}分校")
    statistics_refresh(year=YEAR)


def _count(world, persona, url, kind):
    url = url.format(school=world.school_a1.pk)
    client = world.client(persona) if kind == "client" else world.api(persona)
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona, url, kind", PAGES, ids=[f"{p}:{u}" for p, u, _k in PAGES])
def test_query_count_does_not_grow_from_2_to_200_rows(world, persona, url, kind):
    _add(world, 2)
    with_two = _count(world, persona, url, kind)
    _add(world, 198)
    with_two_hundred = _count(world, persona, url, kind)
    assert with_two_hundred == with_two
