"""The organiser's project page lists the project's enrolments 50 a page (keyset on state, then time of
application), with the whole count on its badge: a city-wide project's thousands of enrolments were all
rendered on one page. The statements of a page do not grow with the enrolments."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from training.models import Enrolment, EnrolmentState

from ..factories import TeacherFactory
from .projects_kit import make_project


def _enrol(world, project, n, *, state=EnrolmentState.APPLIED):
    """n enrolments, one a minute, the oldest first; returns them in that order."""
    start = timezone.now() - datetime.timedelta(days=1)
    teachers = TeacherFactory.create_batch(n, school=world.school_a1)
    return Enrolment.objects.bulk_create(
        Enrolment(
            project=project,
            teacher=t,
            district=world.district_a,
            school=t.school,
            state=state,
            created_at=start + datetime.timedelta(minutes=i),
        )
        for i, t in enumerate(teachers)
    )


def _next_link(html: str) -> str:
    marker = 'href="?cursor='
    at = html.index(marker) + len('href="')
    return html[at : html.index('"', at)].replace("&amp;", "&")


def test_the_51st_enrolment_is_on_the_next_page(world):
    project = make_project(world, enrolment=True)
    rows = _enrol(world, project, 51)
    client = world.client("city_admin")
    first = client.get(f"/hours/projects/{project.pk}/").content.decode()
    assert 'data-testid="enrolled-count">51<' in first
    assert all(f'data-testid="enrolment-{e.pk}"' in first for e in rows[:50])
    assert f'data-testid="enrolment-{rows[50].pk}"' not in first
    assert 'data-testid="next-page"' in first
    second = client.get(f"/hours/projects/{project.pk}/{_next_link(first)}").content.decode()
    assert f'data-testid="enrolment-{rows[50].pk}"' in second
    assert not any(f'data-testid="enrolment-{e.pk}"' in second for e in rows[:50])
    assert 'data-testid="next-page"' not in second and 'data-testid="first-page"' in second
    assert 'data-testid="enrolled-count">51<' in second


def test_enrolments_are_grouped_by_state_then_oldest_first(world):
    project = make_project(world, enrolment=True)
    applied = _enrol(world, project, 2)
    final = _enrol(world, project, 1, state=EnrolmentState.FINAL)
    html = world.client("city_admin").get(f"/hours/projects/{project.pk}/").content.decode()
    at = [html.index(f'data-testid="enrolment-{e.pk}"') for e in (*applied, *final)]
    assert at == sorted(at)  # applied (oldest first), then final


def test_a_bad_cursor_shows_the_first_page(world):
    project = make_project(world, enrolment=True)
    rows = _enrol(world, project, 3)
    response = world.client("city_admin").get(f"/hours/projects/{project.pk}/?cursor=not-a-cursor")
    assert response.status_code == 200
    assert f'data-testid="enrolment-{rows[0].pk}"' in response.content.decode()


def _statements(world, project):
    client = world.client("city_admin")
    client.get(f"/hours/projects/{project.pk}/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/hours/projects/{project.pk}/").status_code == 200
    return len(ctx.captured_queries)


def test_the_pages_statements_do_not_grow_with_enrolments(world):
    few = make_project(world, enrolment=True, title="小项目")
    _enrol(world, few, 2)
    many = make_project(world, enrolment=True, title="大项目")
    _enrol(world, many, 200)
    _enrol(world, many, 20, state=EnrolmentState.FINAL)
    _enrol(world, few, 1, state=EnrolmentState.FINAL)
    assert _statements(world, few) == _statements(world, many)
