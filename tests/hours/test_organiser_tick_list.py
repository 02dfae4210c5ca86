"""The organiser's tick list and registrations at city scale: a provider's project can have thousands of
teachers finally enrolled (or, without enrolment, the whole city to choose from). The page lists the first
50 in school and name order with a count that stops at a cap, finds the rest by name, CPD number or school,
pages the registrations 50 at a time, and runs the same statements for 2 teachers as for 120."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from hours import ledger
from hours.models import LedgerEntry, Source
from training import views
from training.models import Enrolment, EnrolmentState

from ..factories import TeacherFactory
from .projects_kit import make_project


def _finally_enrolled(world, project, n, school=None):
    teachers = TeacherFactory.create_batch(n, school=school or world.school_a1)
    Enrolment.objects.bulk_create(
        Enrolment(project=project, teacher=t, district=world.district_a, school=t.school, state=EnrolmentState.FINAL)
        for t in teachers
    )
    return teachers


def _register(project, teachers):
    """Live registrations, as the organiser's registration writes them (one entry each, linked to the project)."""
    for t in teachers:
        ledger.entry_create(
            teacher=t,
            year=project.year,
            category=project.category,
            hours=Decimal("12"),
            source=Source.REGISTRATION,
            title=project.title,
            organiser=project.organiser.name,
            project=project,
        )


def _tick_input(html: str, pk: int) -> str:
    at = html.index(f'id="tick-{pk}"')
    return html[html.rindex("<input", 0, at) : html.index(">", at)]


def _ticks(html: str) -> int:
    return html.count('data-testid="tick-')


def test_a_project_with_sixty_final_enrolments_lists_fifty_and_finds_the_rest_by_name(world, in_year):
    project = make_project(world, "provider", enrolment=True)
    teachers = _finally_enrolled(world, project, 60)
    client = world.client("provider")

    page = client.get(f"/hours/projects/{project.pk}/").content.decode()

    assert _ticks(page) == views.CANDIDATES_SHOWN
    assert 'data-testid="candidate-search"' in page
    assert 'data-testid="candidates-more"' in page and "共 60 名可登记的教师，下面列出前 50 名" in page
    last = sorted(teachers, key=lambda t: (t.name, t.pk))[-1]
    assert f'data-testid="tick-{last.pk}"' not in page

    found = client.get(f"/hours/projects/{project.pk}/", {"q": last.name}).content.decode()
    assert f'data-testid="tick-{last.pk}"' in found
    assert 'data-testid="candidates-more"' not in found


def test_only_finally_enrolled_teachers_are_ticked_and_search_finds_by_cpd_number_and_school(world, in_year):
    project = make_project(world, "provider", enrolment=True)
    [a] = _finally_enrolled(world, project, 1)
    [b] = _finally_enrolled(world, project, 1, school=world.school_b1)
    applied = TeacherFactory(school=world.school_a1)
    Enrolment.objects.create(
        project=project, teacher=applied, district=world.district_a, school=applied.school, state=EnrolmentState.APPLIED
    )
    client = world.client("provider")

    page = client.get(f"/hours/projects/{project.pk}/").content.decode()
    assert f'data-testid="tick-{a.pk}"' in page and f'data-testid="tick-{b.pk}"' in page
    assert f'data-testid="tick-{applied.pk}"' not in page

    by_number = client.get(f"/hours/projects/{project.pk}/", {"q": b.cpd_number}).content.decode()
    assert f'data-testid="tick-{b.pk}"' in by_number and f'data-testid="tick-{a.pk}"' not in by_number
    school_b1 = Organisation.objects.get(pk=world.school_b1.pk)
    by_school = client.get(f"/hours/projects/{project.pk}/", {"q": school_b1.name}).content.decode()
    assert f'data-testid="tick-{b.pk}"' in by_school and f'data-testid="tick-{a.pk}"' not in by_school
    nobody = client.get(f"/hours/projects/{project.pk}/", {"q": "没有这个人"}).content.decode()
    assert _ticks(nobody) == 0 and 'data-testid="candidates-none"' in nobody


def test_the_count_stops_at_the_cap_and_says_more(world, in_year, monkeypatch):
    monkeypatch.setattr(views, "CANDIDATES_COUNT_CAP", 5)
    monkeypatch.setattr(views, "CANDIDATES_SHOWN", 3)
    project = make_project(world, "provider", enrolment=True)
    _finally_enrolled(world, project, 8)

    page = world.client("provider").get(f"/hours/projects/{project.pk}/").content.decode()

    assert _ticks(page) == 3
    assert "超过 5 名可登记的教师，下面列出前 3 名" in page


def test_a_registered_teacher_on_the_list_is_ticked_and_marked_registered(world, in_year):
    project = make_project(world, "provider", enrolment=True)
    a, b = _finally_enrolled(world, project, 2)
    _register(project, [a])

    page = world.client("provider").get(f"/hours/projects/{project.pk}/").content.decode()

    assert "disabled checked" in _tick_input(page, a.pk)
    assert "disabled" not in _tick_input(page, b.pk) and f'name="hours_{b.pk}"' in page
    assert 'data-testid="registered-count">1<' in page


def test_registrations_are_paged_fifty_at_a_time_newest_first(world, in_year):
    project = make_project(world, "provider", enrolment=True)
    teachers = _finally_enrolled(world, project, 55)
    _register(project, teachers)
    client = world.client("provider")
    url = f"/hours/projects/{project.pk}/"

    first = client.get(url).content.decode()
    assert 'data-testid="registered-count">55<' in first
    entries = LedgerEntry.objects.filter(project=project).order_by("-created_at", "-pk")
    assert first.count("/revoke/") == 50
    assert f"/hours/registrations/{entries[0].pk}/revoke/" in first
    assert f"/hours/registrations/{entries[54].pk}/revoke/" not in first
    marker = 'href="?registrations_cursor='
    assert marker in first
    at = first.index(marker) + len('href="')
    second = client.get(url + first[at : first.index('"', at)].replace("&amp;", "&")).content.decode()
    assert second.count("/revoke/") == 5
    assert f"/hours/registrations/{entries[54].pk}/revoke/" in second


@pytest.mark.parametrize("enrolment", [True, False])
def test_the_organisers_page_runs_the_same_statements_for_2_and_120_teachers(world, in_year, enrolment):
    project = make_project(world, "provider", enrolment=enrolment)
    client = world.client("provider")
    url = f"/hours/projects/{project.pk}/"

    def statements():
        client.get(url)  # warm: the session and the role
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = _finally_enrolled(world, project, 2)
    _register(project, few)
    small = statements()
    more = _finally_enrolled(world, project, 118)
    _register(project, more[:60])
    assert statements() == small
