"""The plain-Python rule (verification/rules.py) against the engine's SQL: the hand-computed cases, and
random teachers through a real chunk statement on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.models import OrgKind
from hours import ledger
from hours.ledger import YearFigures
from hours.models import Category, Source
from verification.engine import verify_chunk
from verification.models import CarryRule, Exemption, ResultStatus, RunStatus, VerificationResult, VerificationRun, YearPolicy
from verification.rules import Minimums, judge

from ..factories import OrganisationFactory, TeacherFactory
from .conftest import entry
from .test_rules import CASES

D = Decimal


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_reference_rule_gives_the_hand_computed_verdicts(db, case):
    year, public, own, elective, carry_in, status, shorts, carry_out = case
    figures = YearFigures(
        teacher_id=1, year=year, public=D(public), professional_own=D(own), carry_in=D(carry_in), elective=D(elective)
    )
    j = judge(figures=figures, policy=YearPolicy.objects.get(year=year))
    assert (j.status, tuple(j.shortfall.values()), j.carry_out) == (status, tuple(D(n) for n in shorts), D(carry_out))


def test_an_exempt_teacher_is_exempt_and_carries_nothing(db):
    figures = YearFigures(teacher_id=1, year=2023, public=D(30), professional_own=D(60), elective=D(18))
    j = judge(figures=figures, policy=YearPolicy.objects.get(year=2023), exempt=True)
    assert (j.status, j.carry_out) == (ResultStatus.EXEMPT, D(0))


# --- random teachers through the engine ----------------------------------------------------------------------

tenths = st.integers(min_value=0, max_value=900).map(lambda n: D(n) / 10)  # 0.0 … 90.0, one decimal
TOPICS = ["师德师风专题", "网络安全专题", "心理健康专题"]
SEEDED = {  # year: (public, professional, elective, total, rule), as seeded (SPEC §5)
    2018: (D(18), D(42), D(0), D(72), CarryRule.NONE),
    2019: (D(18), D(42), D(0), D(72), CarryRule.RULE_2019),
    2023: (D(30), D(42), D(18), D(90), CarryRule.RULE_2022),
}
RANDOM_YEAR = 2031
# a category's hours relative to its minimum: just under, at, just over, well over it (one decimal)
offset_st = st.one_of(
    st.sampled_from([D("-5"), D("-1"), D("-0.1"), D(0), D("0.1"), D(1), D(6), D(12), D(20)]),
    st.integers(min_value=-300, max_value=300).map(lambda n: D(n) / 10),
)
entry_st = st.tuples(
    st.sampled_from([Category.PUBLIC, Category.PROFESSIONAL, Category.ELECTIVE]),
    st.integers(min_value=1, max_value=300).map(lambda n: D(n) / 10),
    st.sampled_from(TOPICS),  # public topics repeat: each counts once
    st.booleans(),  # revoked by a correction
)


@st.composite
def scenario(draw):
    """(year, minimums, teachers): a seeded year or a random policy, and teachers with hours around its minimums."""
    year = draw(st.sampled_from([2018, 2019, 2019, 2023, RANDOM_YEAR]))
    if year == RANDOM_YEAR:
        public, professional, elective, extra = (draw(tenths) for _ in range(4))
        minimums = (
            public,
            professional,
            elective,
            public + professional + elective + extra,
            draw(st.sampled_from(CarryRule.values)),
        )
    else:
        minimums = SEEDED[year]
    teachers = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "main": st.tuples(*(offset_st.map(lambda o, m=m: max(D(0), m + o)) for m in minimums[:3])),
                    "entries": st.lists(entry_st, max_size=3),
                    # carried in: none, or around the professional minimum (below, at, above it)
                    "carry_in": st.one_of(st.just(D(0)), offset_st.map(lambda o, m=minimums[1]: max(D(0), m + o)), tenths),
                    "exempt": st.sampled_from([False, False, False, True]),
                }
            ),
            min_size=1,
            max_size=5,
        )
    )
    return year, minimums, teachers


def _policy_year(year: int, minimums) -> int:
    if year == RANDOM_YEAR:
        public, professional, elective, total, rule = minimums
        YearPolicy.objects.update_or_create(
            year=year,
            defaults={
                "min_public": public,
                "min_professional": professional,
                "min_elective": elective,
                "min_total": total,
                "carry_rule": rule,
            },
        )
    return year


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=scenario())
def test_reference_rule_and_engine_sql_agree_on_random_teachers(world, case):
    year, minimums, teachers = case
    with transaction.atomic():
        sid = transaction.savepoint()
        try:
            _check(world, teachers, _policy_year(year, minimums))
        finally:
            transaction.savepoint_rollback(sid)


def _check(world, specs, year: int) -> None:
    school = OrganisationFactory(kind=OrgKind.SCHOOL, parent=world.district_a)
    teachers = [TeacherFactory(school=school) for _ in specs]
    for t, spec in zip(teachers, specs, strict=True):
        for category, hours in zip(Category.values, spec["main"], strict=True):
            if hours:
                entry(t, year, category, hours, title=f"{category}-main")
        for n, (category, hours, topic, revoked) in enumerate(spec["entries"]):
            title = topic if category == Category.PUBLIC else f"{category}-{n}"
            e = entry(t, year, category, hours, title=title)
            if revoked:
                entry(t, year, category, -hours, title=title, source=Source.CORRECTION, revokes=e)
        if spec["carry_in"]:
            VerificationResult.objects.create(
                teacher=t, year=year - 1, school=school, status=ResultStatus.PASSED, carry_out=spec["carry_in"]
            )
        if spec["exempt"]:
            Exemption.objects.create(teacher=t, year=year, reason="援疆")
    VerificationRun.objects.filter(year=year, status=RunStatus.RUNNING).update(status=RunStatus.DONE)
    run = VerificationRun.objects.create(year=year)
    assert verify_chunk(run.pk, [school.pk]) == len(teachers)

    figures = ledger.year_figures(year=year, teacher_ids=[t.pk for t in teachers])
    minimums = Minimums.of(YearPolicy.objects.get(year=year))
    for t, spec in zip(teachers, specs, strict=True):
        r = VerificationResult.objects.get(teacher=t, year=year)
        f = figures[t.pk]
        j = judge(figures=f, policy=minimums, exempt=spec["exempt"])
        event(f"{minimums.carry_rule} {j.status}" + (" carries" if j.carry_out else ""))
        if (
            minimums.carry_rule == CarryRule.RULE_2019
            and j.passed
            and f.total - minimums.total < f.professional - minimums.professional
        ):
            event("2019: the total limits the carry-out")
        engine = (r.public, r.professional_own, r.carry_in, r.elective, r.professional, r.total)
        assert engine == (f.public, f.professional_own, f.carry_in, f.elective, f.professional, f.total)
        assert (r.status, r.short_public, r.short_professional, r.short_elective, r.short_total, r.carry_out) == (
            j.status,
            j.short_public,
            j.short_professional,
            j.short_elective,
            j.short_total,
            j.carry_out,
        )
