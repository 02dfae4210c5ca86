"""Statistics come from figures stored when a run finishes (and refreshed daily for the open years),
not from aggregating every result per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import TeacherStatus
from verification import services
from verification.models import SchoolYearStats, VerificationResult, YearPolicy

from ..factories import TeacherFactory
from .conftest import give, verify

YEAR = 2025


@pytest.fixture
def verified(world):
    t = world.teachers
    give(t["teacher_a1"], YEAR, public=30, professional=50, elective=18)
    give(t["teacher_a2"], YEAR, public=30, professional=37, elective=23)
    give(t["teacher_b1"], YEAR, public=30, professional=42, elective=18)
    give(t["teacher_c1"], YEAR, public=30, professional=42, elective=18)
    verify(world, YEAR)
    return world


def test_a_finished_run_stores_each_schools_figures(verified):
    stored = {s.school_id: s for s in SchoolYearStats.objects.filter(year=YEAR)}
    a1 = stored[verified.school_a1.pk]
    assert (a1.teachers, a1.verified, a1.passed, a1.failed) == (1, 1, 1, 0)
    a2 = stored[verified.school_a2.pk]
    assert (a2.verified, a2.passed, a2.failed, a2.professional) == (1, 0, 1, 37)
    assert sum(s.verified for s in stored.values()) == VerificationResult.objects.filter(year=YEAR).count() == 4


def test_the_statistics_page_reads_the_stored_figures_not_the_results(verified):
    client = verified.client("city_admin")
    client.get(f"/verification/statistics/?year={YEAR}")
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(f"/verification/statistics/?year={YEAR}").content.decode()
    assert 'data-testid="stat-verified">4<' in html
    assert 'data-testid="stats-computed-at"' in html
    assert not [q["sql"] for q in ctx.captured_queries if "verification_verificationresult" in q["sql"]]


def test_the_daily_refresh_follows_the_roster(verified, settings):
    TeacherFactory(school=verified.school_a1, status=TeacherStatus.ACTIVE)
    html = verified.client("school_a1_admin").get(f"/verification/statistics/?year={YEAR}").content.decode()
    # Until the refresh the stored count stands (and the page says when it was computed).
    assert SchoolYearStats.objects.get(year=YEAR, school=verified.school_a1).teachers == 1
    services.statistics_refresh(year=YEAR)
    assert SchoolYearStats.objects.get(year=YEAR, school=verified.school_a1).teachers == 2
    assert "统计于" in html or "As of" in html


@pytest.mark.postgres
def test_a_finished_run_analyzes_the_results_table(world, transactional_db):
    # An earlier transactional test's flush may have removed the seeded policy.
    YearPolicy.objects.get_or_create(
        year=YEAR,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    give(world.teachers["teacher_a1"], YEAR, public=30, professional=42, elective=18)
    verify(world, YEAR)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
            [VerificationResult._meta.db_table],
        )
        assert cursor.fetchone() == (True,)


def test_an_operator_can_run_the_refresh_for_a_day(verified):
    import io
    import json

    from django.core.management import call_command

    TeacherFactory(school=verified.school_a1, status=TeacherStatus.ACTIVE)
    out = io.StringIO()
    call_command("refresh_statistics", "--date", f"{YEAR + 1}-01-05", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["job"] == "refresh_statistics" and set(summary["result"]) == {str(YEAR), str(YEAR + 1)}
    assert SchoolYearStats.objects.get(year=YEAR, school=verified.school_a1).teachers == 2


def test_each_area_stores_the_sums_of_its_schools(verified):
    from verification.models import AreaYearStats

    areas = {a.organisation_id: a for a in AreaYearStats.objects.filter(year=YEAR)}
    schools = list(SchoolYearStats.objects.filter(year=YEAR).select_related("school"))
    for area_id in (verified.city.pk, verified.district_a.pk, verified.district_b.pk, verified.city_direct.pk):
        below = [s for s in schools if f"/{area_id}/" in s.school.path]
        for field in ("teachers", "verified", "passed", "failed", "public", "professional", "elective", "total_hours"):
            assert getattr(areas[area_id], field) == sum(getattr(s, field) for s in below), (area_id, field)
    assert (areas[verified.city.pk].verified, areas[verified.district_a.pk].verified) == (4, 2)


def test_a_school_moved_to_another_district_takes_its_figures_along(verified):
    from verification.models import AreaYearStats

    response = verified.api("city_admin").patch(
        f"/api/v1/organisations/{verified.school_a2.pk}/", {"parent": verified.district_b.pk}, format="json"
    )
    assert response.status_code == 200
    stored = {a.organisation_id: a.verified for a in AreaYearStats.objects.filter(year=YEAR)}
    assert (stored[verified.district_a.pk], stored[verified.district_b.pk], stored[verified.city.pk]) == (1, 2, 4)
    html = verified.client("city_admin").get(f"/verification/statistics/?year={YEAR}").content.decode()
    assert 'data-testid="stat-verified">4<' in html


def test_the_citys_statistics_read_one_stored_row_per_district_not_the_school_rows(verified):
    client = verified.client("city_admin")
    client.get(f"/verification/statistics/?year={YEAR}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/verification/statistics/?year={YEAR}")
    rows = {r["unit"].pk: r for r in response.context["rows"]}
    assert (rows[verified.district_a.pk]["verified"], rows[verified.district_a.pk]["passed"]) == (2, 1)
    assert rows[verified.district_a.pk]["pass_rate"] == 50.0
    assert response.context["total"]["verified"] == 4 and response.context["total"]["computed_at"] is not None
    assert [t["year"] for t in response.context["trend"]] == [YEAR]
    assert not [q["sql"] for q in ctx.captured_queries if "verification_schoolyearstats" in q["sql"]]


def test_a_districts_schools_are_listed_a_page_at_a_time_with_the_whole_districts_totals(verified):
    from accounts.models import OrgKind
    from verification.views import STATISTICS_UNITS_PER_PAGE

    from ..factories import OrganisationFactory

    for i in range(STATISTICS_UNITS_PER_PAGE + 5):
        OrganisationFactory(kind=OrgKind.SCHOOL, parent=verified.district_a, code=f"Z{i:03d}")
    services.statistics_refresh(year=YEAR)
    client = verified.client("district_a_admin")
    seen, url = [], f"/verification/statistics/?year={YEAR}"
    while url:
        response = client.get(url)
        assert response.context["total"]["verified"] == 2  # the district's, on every page
        seen += [r["unit"].pk for r in response.context["rows"]]
        page = response.context["page"]
        url = f"/verification/statistics/?year={YEAR}&cursor={page.next_cursor}" if page.has_next else None
    schools = verified.district_a.children.order_by("code", "pk").values_list("pk", flat=True)
    assert seen == list(schools) and len(seen) == STATISTICS_UNITS_PER_PAGE + 7
