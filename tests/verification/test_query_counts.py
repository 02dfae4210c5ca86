"""The verification job and the statistics page do a fixed number of queries, whatever the numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OrgKind
from hours.models import Category
from verification.engine import set_based_reference_checks, verify_chunk
from verification.models import Exemption, ResultStatus, RunStatus, VerificationResult, VerificationRun

from ..factories import OrganisationFactory, TeacherFactory
from .conftest import entry, give, verify

D = Decimal


def school_with_teachers(parent, n: int, year: int = 2023):
    """A school of `n` teachers, each with every kind of input the chunk job reads: hours in all
    categories (a public topic twice), carry-in from last year, and one exemption."""
    school = OrganisationFactory(kind=OrgKind.SCHOOL, parent=parent)
    teachers = [TeacherFactory(school=school) for _ in range(n)]
    for t in teachers:
        entry(t, year, Category.PUBLIC, 10, title="师德师风专题")
        entry(t, year, Category.PUBLIC, 10, title="师德师风专题")
        give(t, year, public=20, professional=40, elective=18)
    VerificationResult.objects.bulk_create(
        VerificationResult(teacher=t, year=year - 1, school=school, status=ResultStatus.PASSED, carry_out=D(4)) for t in teachers
    )
    Exemption.objects.create(teacher=teachers[0], year=year, reason="援疆")
    return school


def chunk_queries(school, year: int = 2023) -> tuple[int, int]:
    VerificationRun.objects.filter(year=year, status=RunStatus.RUNNING).update(status=RunStatus.DONE)
    run = VerificationRun.objects.create(year=year)
    set_based_reference_checks()  # asked once per database connection, not per chunk
    with CaptureQueriesContext(connection) as ctx:
        done = verify_chunk(run.pk, [school.pk])
    return done, len(ctx.captured_queries)


def test_verify_chunk_queries_do_not_grow_with_the_number_of_teachers(world):
    small = school_with_teachers(world.district_a, 5)
    large = school_with_teachers(world.district_b, 50)
    done_small, q_small = chunk_queries(small)
    done_large, q_large = chunk_queries(large)
    assert (done_small, done_large) == (5, 50)
    assert q_small == q_large
    assert q_large <= 10  # a handful: run, policy, teachers, two ledger aggregates, carry-in, exemptions, upsert, heartbeat
    # and the figures are right: public 10 (once) + 20 = 30; professional 4 carried + 40 = 44 → carries min(40, 2) = 2
    r = VerificationResult.objects.filter(year=2023, school=large).exclude(status=ResultStatus.EXEMPT).first()
    assert (r.public, r.professional, r.carry_out, r.status) == (D(30), D(44), D(2), ResultStatus.PASSED)
    assert VerificationResult.objects.filter(year=2023, school=large, status=ResultStatus.EXEMPT).count() == 1


def test_a_whole_run_queries_do_not_grow_with_the_number_of_teachers(world):
    """The year's first run (plain INSERTs) and a re-run (upserts), each with 9 and with 54 teachers."""
    set_based_reference_checks()  # asked once per database connection, not per run
    school_with_teachers(world.district_a, 5)
    with CaptureQueriesContext(connection) as small:
        verify(world, 2023)
    with CaptureQueriesContext(connection) as small_again:
        verify(world, 2023)
    # 45 more: 54 rows stay within one INSERT batch on SQLite (999 parameters / 17 columns = 58 rows)
    school_with_teachers(world.district_b, 45)
    with CaptureQueriesContext(connection) as large_again:
        run = verify(world, 2023)
    assert run.total == 4 + 5 + 45
    VerificationResult.objects.filter(year=2023).delete()
    with CaptureQueriesContext(connection) as large:
        run = verify(world, 2023)
    assert run.total == 4 + 5 + 45
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(small_again.captured_queries) == len(large_again.captured_queries)


def stats_queries(client, year: int) -> int:
    client.get(f"/verification/statistics/?year={year}")  # warm the session and the role
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/verification/statistics/?year={year}")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["city_admin", "district_a_admin"])
def test_statistics_page_queries_do_not_grow_with_the_number_of_results(world, persona):
    give(world.teachers["teacher_a1"], 2023, public=30, professional=42, elective=18)
    verify(world, 2023)
    client = world.client(persona)
    few = stats_queries(client, 2023)
    for district in (world.district_a, world.district_b):
        for _ in range(3):
            school_with_teachers(district, 8)
    verify(world, 2022)  # a second year in the trend
    verify(world, 2023)
    many = stats_queries(client, 2023)
    assert VerificationResult.objects.filter(year=2023).count() == 4 + 6 * 8
    assert few == many
