"""One truth (SPEC §9, issue 11): for every teacher of the annual demo and of a generated 5,000-teacher city,
and each verified year, the figures the teacher's hours page, the results API, the statistics export and the
provincial export show equal the engine's results. Runs on the configured database (SQLite by default,
PostgreSQL in CI)."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from django.core.management import call_command
from django.test import Client

from accounts.models import OrgKind, Role, RoleKind
from hours import ledger
from tests.conftest import force_login_verified
from verification import exports, services
from verification.models import VerificationResult

FIELDS = ("public", "professional_own", "carry_in", "elective", "professional", "total")


def page_figures(html: str) -> list[Decimal]:
    return [Decimal(re.search(rf'data-testid="total-{n}">([\d.]+)<', html).group(1)) for n in range(1, 5)]


def results_by_api(client: Client, role: Role, year: int) -> dict[int, dict]:
    out = {}
    url = f"/api/v1/results/?year={year}"
    while url:
        body = client.get(url, HTTP_X_CPD_ROLE=str(role.pk)).json()
        out.update({row["teacher"]: row for row in body["results"]})
        url = body.get("next")
    return out


def check_year(role: Role, year: int, page_teachers) -> int:
    """Every figure of every teacher with a result for `year`; returns how many teachers were checked."""
    results = {r.teacher_id: r for r in VerificationResult.objects.filter(year=year).select_related("school")}
    assert results
    figures = ledger.year_figures(year=year, teacher_ids=list(results))
    for tid, r in results.items():
        f = figures[tid]
        assert tuple(getattr(f, k) for k in FIELDS) == tuple(getattr(r, k) for k in FIELDS), (tid, year)

    client = Client()
    force_login_verified(client, role.user)
    api = results_by_api(client, role, year)
    assert set(api) == set(results)
    for tid, row in api.items():
        assert tuple(Decimal(row[k]) for k in FIELDS) == tuple(getattr(figures[tid], k) for k in FIELDS), (tid, year)

    # the provincial export's public topics add up to the counted public hours
    topics = ledger.public_topics(year=year, teacher_ids=list(results))
    for tid, f in figures.items():
        assert sum((h for _t, h in topics.get(tid, [])), Decimal(0)) == f.public, (tid, year)

    # the statistics export, per district and in total, adds up the same figures
    by_district: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for tid, r in results.items():
        for k in ("public", "professional", "elective", "total"):
            by_district[r.school.parent_id][k] += getattr(figures[tid], k)
    rows = list(exports.stats_rows(role, year))
    names = {d.name: d.pk for d in role.organisation.children.filter(kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT])}
    for row in rows[:-1]:
        want = by_district.get(names[row[0]], {})
        assert [Decimal(row[i]) for i in (7, 8, 9, 10)] == [
            want.get(k, Decimal(0)) for k in ("public", "professional", "elective", "total")
        ]
    assert Decimal(rows[-1][10]) == sum(f.total for f in figures.values())

    # the teacher's hours page (as the city admin sees it; the teacher's own page is the same view)
    for tid in page_teachers(results):
        html = client.get(f"/hours/teacher/{tid}/?year={year}", HTTP_X_CPD_ROLE=str(role.pk)).content.decode()
        r = results[tid]
        assert page_figures(html) == [r.public, r.professional, r.elective, r.total], (tid, year)
    return len(results)


def test_every_figure_equals_the_verdict_for_every_teacher_of_the_annual_demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    role = Role.objects.select_related("user", "organisation").get(user__username="city", kind=RoleKind.CITY_ADMIN)
    years = sorted(set(VerificationResult.objects.values_list("year", flat=True)))
    assert len(years) == 3  # the demo verifies the last three years, two of them finalised
    checked = [check_year(role, y, page_teachers=lambda results: list(results)) for y in years]
    assert all(checked)


def test_every_figure_equals_the_verdict_for_every_teacher_of_a_generated_city(db):
    from bench.datagen import YEAR, city_admin_role, generate

    counts = generate(5000, year=YEAR, verbose=False, analyze=False)
    role = city_admin_role(counts["city_id"])
    role = Role.objects.select_related("user", "organisation").get(pk=role.pk)
    run = services.run_start(role=role, actor=role.user, year=YEAR, inline=True)
    assert run.status == "done"
    # pages for one teacher in 50 (rendering 5,000 pages would dominate the suite); every other check: all
    checked = check_year(role, YEAR, page_teachers=lambda results: sorted(results)[::50])
    assert checked >= 4900
