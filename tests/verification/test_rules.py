"""SPEC §5 rule by rule, with hand-computed figures, end to end through a city run of the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from cpd.errors import NotFound
from hours.models import Category, Source
from verification import services
from verification.models import CarryRule, ResultStatus, VerificationResult, VerificationRun, YearPolicy

from .conftest import entry, give, result, verify

D = Decimal
PASSED, FAILED, EXEMPT = ResultStatus.PASSED, ResultStatus.FAILED, ResultStatus.EXEMPT


# --- the seeded policies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "minimums", "rule"),
    [
        (2014, (72, 18, 42, 0), CarryRule.NONE),
        (2018, (72, 18, 42, 0), CarryRule.NONE),
        (2019, (72, 18, 42, 0), CarryRule.RULE_2019),
        (2022, (90, 30, 42, 18), CarryRule.RULE_2022),
        (2024, (90, 30, 42, 18), CarryRule.RULE_2022),
        (2026, (90, 30, 42, 18), CarryRule.RULE_2022),
    ],
)
def test_seeded_policy_has_the_spec_minimums_and_carry_rule(db, year, minimums, rule):
    p = YearPolicy.objects.get(year=year)
    assert (p.min_total, p.min_public, p.min_professional, p.min_elective) == tuple(D(n) for n in minimums)
    assert p.carry_rule == rule
    assert p.hours_per_day == D(6)


@pytest.mark.parametrize("year", [2020, 2021])
def test_years_between_2019_and_2022_have_no_seeded_policy(db, year):
    assert not YearPolicy.objects.filter(year=year).exists()


# --- one table of cases, each checked by a real run ---------------------------------------

# (year, public, own professional, elective, carry-in, status, (short public, prof, elective, total), carry-out)
CASES = {
    # 2018: 72/18/42/0, no carry-over at all.
    "2018 exactly at the minimums passes": (2018, 18, 42, 12, 0, PASSED, (0, 0, 0, 0), 0),
    "2018 one public hour short fails": (2018, 17, 42, 13, 0, FAILED, (1, 0, 0, 0), 0),
    "2018 one professional hour short fails": (2018, 18, 41, 13, 0, FAILED, (0, 1, 0, 0), 0),
    # 18 + 42 + 11 = 71 < 72: every category met, the total one hour short.
    "2018 one total hour short fails": (2018, 18, 42, 11, 0, FAILED, (0, 0, 0, 1), 0),
    # 30 + 80 = 110, 38 professional above 42, but the pre-2019 policy carries nothing.
    "2018 no carry-over however much is done": (2018, 30, 80, 0, 0, PASSED, (0, 0, 0, 0), 0),
    # 2019: 72/18/42/0, carry = min(prof excess, total excess).
    "2019 exactly at the minimums passes": (2019, 18, 42, 12, 0, PASSED, (0, 0, 0, 0), 0),
    # 18 + 50 + 0 = 68 < 72: fails by 4, so nothing carries although professional is 8 above 42.
    "2019 professional 50 but total 68 fails": (2019, 18, 50, 0, 0, FAILED, (0, 0, 0, 4), 0),
    # total 80: min(50 - 42, 80 - 72) = min(8, 8) = 8
    "2019 public 30 professional 50 carries 8": (2019, 30, 50, 0, 0, PASSED, (0, 0, 0, 0), 8),
    # total 75: min(55 - 42, 75 - 72) = min(13, 3) = 3 (the total limits)
    "2019 public 20 professional 55 carries 3": (2019, 20, 55, 0, 0, PASSED, (0, 0, 0, 0), 3),
    # total 85: min(45 - 42, 85 - 72) = min(3, 13) = 3 (the professional excess limits)
    "2019 public 40 professional 45 carries 3": (2019, 40, 45, 0, 0, PASSED, (0, 0, 0, 0), 3),
    # 2022 on: 90/30/42/18, carry = professional above 42.
    "2022 exactly at the minimums passes": (2022, 30, 42, 18, 0, PASSED, (0, 0, 0, 0), 0),
    "2022 one public hour short fails": (2022, 29, 42, 19, 0, FAILED, (1, 0, 0, 0), 0),
    "2022 one professional hour short fails": (2022, 30, 41, 19, 0, FAILED, (0, 1, 0, 0), 0),
    # 30 + 43 + 17 = 90: elective one short; the one professional hour above 42 does not carry (failed).
    "2022 one elective hour short fails": (2022, 30, 43, 17, 0, FAILED, (0, 0, 1, 0), 0),
    # 30 + 42 + 17 = 89: elective and total each one short.
    "2022 one hour short of elective and total": (2022, 30, 42, 17, 0, FAILED, (0, 0, 1, 1), 0),
    # 50 - 42 = 8
    "2022 professional 50 carries 8": (2022, 30, 50, 18, 0, PASSED, (0, 0, 0, 0), 8),
    # professional 60 would carry 18, but public is one short: fail, nothing carries.
    "2022 a fail carries nothing": (2022, 29, 60, 18, 0, FAILED, (1, 0, 0, 0), 0),
    # carry-in 10 + own 40 = 50 ≥ 42; carry out min(own 40, 50 - 42) = 8
    "2023 carry-in 10 and own 40 carries 8": (2023, 30, 40, 18, 10, PASSED, (0, 0, 0, 0), 8),
    # carry-in 10 + own 32 = 42: passes (total 30 + 42 + 18 = 90 thanks to the carry-in), carries 0
    "2023 carry-in 10 and own 32 carries 0": (2023, 30, 32, 18, 10, PASSED, (0, 0, 0, 0), 0),
    # carry-in 45 + own 5 = 50, excess 8, but only own hours carry: min(5, 8) = 5
    "2023 carry-out is at most own professional hours": (2023, 30, 5, 18, 45, PASSED, (0, 0, 0, 0), 5),
    # carry-in 50 + own 0 = 50 passes; min(0, 8) = 0: the unused carry-in expires
    "2023 a big carry-in with no own professional carries 0": (2023, 30, 0, 18, 50, PASSED, (0, 0, 0, 0), 0),
    # carry-in 5 + own 30 = 35: professional 7 short, total 30 + 35 + 18 = 83 → 7 short
    "2023 carry-in too small still fails": (2023, 30, 30, 18, 5, FAILED, (0, 7, 0, 7), 0),
}


def _expect(values, status, shorts, carry_out):
    assert values["status"] == status
    assert (values["short_public"], values["short_professional"], values["short_elective"], values["short_total"]) == tuple(
        D(n) for n in shorts
    )
    assert values["carry_out"] == D(carry_out)


def _carry_into(world, teacher, year, hours):
    """Give `teacher` a result for `year - 1` that carries exactly `hours` out.

    public 30, professional 42 + h, elective 18: 2022 rule → h; 2019 rule → min(h, 18 + h) = h.
    """
    give(teacher, year - 1, public=30, professional=42 + hours, elective=18)
    verify(world, year - 1)
    assert result(teacher, year - 1).carry_out == D(hours)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rule_end_to_end(world, case):
    year, public, own, elective, carry_in, status, shorts, carry_out = case
    teacher = world.teachers["teacher_a1"]
    if carry_in:
        _carry_into(world, teacher, year, carry_in)
    give(teacher, year, public=public, professional=own, elective=elective)
    run = verify(world, year)
    r = result(teacher, year)
    assert r.run_id == run.pk
    assert (r.public, r.professional_own, r.elective, r.carry_in) == (D(public), D(own), D(elective), D(carry_in))
    assert r.professional == D(carry_in + own)
    assert r.total == D(public + carry_in + own + elective)
    _expect(
        {
            f: getattr(r, f)
            for f in ("status", "short_public", "short_professional", "short_elective", "short_total", "carry_out")
        },
        status,
        shorts,
        carry_out,
    )


# --- carry-over across years ---------------------------------------------------------------------------------


def test_carry_in_expires_after_one_year(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2022, public=30, professional=92, elective=18)  # 92 - 42 = 50 carries into 2023
    give(teacher, 2023, public=30, elective=18)  # no own professional: the 50 carried in cover the 42
    give(teacher, 2024, public=30, elective=18)
    for year in (2022, 2023, 2024):
        verify(world, year)
    assert result(teacher, 2022).carry_out == D(50)
    r23 = result(teacher, 2023)
    assert (r23.status, r23.carry_in, r23.professional, r23.carry_out) == (PASSED, D(50), D(50), D(0))
    # Nothing of 2022's 50 reaches 2024: professional 0, 42 short; total 48, 42 short.
    r24 = result(teacher, 2024)
    assert (r24.status, r24.carry_in, r24.short_professional, r24.short_total) == (FAILED, D(0), D(42), D(42))


def test_carry_in_counts_toward_the_total_under_the_2019_rule(world):
    # 2020 is set by the city as a copy of 2019 (72/18/42/0, 2019 rule).
    services.policy_create_next(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2020)
    a1, a2 = world.teachers["teacher_a1"], world.teachers["teacher_a2"]
    give(a1, 2019, public=30, professional=50)  # total 80: carries min(8, 8) = 8
    give(a2, 2019, public=30, professional=50)
    give(a1, 2020, public=18, professional=42, elective=4)
    give(a2, 2020, public=18, professional=42, elective=4)
    services.exemption_set(role=world.roles["city_admin"], actor=world.users["city_admin"], teacher=a2, year=2019, reason="援疆")
    verify(world, 2019)
    verify(world, 2020)
    # a1: 18 + (8 + 42) + 4 = 72 → passes; excess min(50 - 42, 72 - 72) = 0 → carries 0.
    r = result(a1, 2020)
    assert (r.status, r.carry_in, r.total, r.carry_out) == (PASSED, D(8), D(72), D(0))
    # a2 was exempt in 2019, so carried nothing: 18 + 42 + 4 = 64 → 8 short of the total.
    r = result(a2, 2020)
    assert (r.status, r.carry_in, r.short_total) == (FAILED, D(0), D(8))


def test_carry_in_with_the_2019_rule_is_limited_by_the_total_excess(world):
    services.policy_create_next(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2020)
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2019, public=30, professional=50)  # carries 8
    give(teacher, 2020, public=18, professional=40, elective=10)
    verify(world, 2019)
    verify(world, 2020)
    # professional 8 + 40 = 48, total 18 + 48 + 10 = 76: min(48 - 42, 76 - 72) = min(6, 4) = 4, and 4 ≤ own 40.
    r = result(teacher, 2020)
    assert (r.status, r.professional, r.total, r.carry_out) == (PASSED, D(48), D(76), D(4))


# --- what counts ----------------------------------------------------------------------------------------------


def test_public_topic_studied_twice_in_a_year_counts_once(world):
    teacher = world.teachers["teacher_a1"]
    entry(teacher, 2022, Category.PUBLIC, 20, title="师德师风专题")
    entry(teacher, 2022, Category.PUBLIC, 20, title="师德师风专题", source=Source.PROVINCIAL_IMPORT)
    entry(teacher, 2022, Category.PUBLIC, 8, title="安全教育专题")
    give(teacher, 2022, professional=42, elective=18)
    verify(world, 2022)
    r = result(teacher, 2022)
    # 20 (once) + 8 = 28 < 30: two short. Counting the topic twice would have given 48 and a pass.
    assert (r.public, r.status, r.short_public) == (D(28), FAILED, D(2))


def test_same_title_counts_twice_outside_public_subjects(world):
    teacher = world.teachers["teacher_a1"]
    entry(teacher, 2022, Category.PROFESSIONAL, 21, title="教研活动")
    entry(teacher, 2022, Category.PROFESSIONAL, 21, title="教研活动")
    give(teacher, 2022, public=30, elective=18)
    verify(world, 2022)
    assert result(teacher, 2022).professional_own == D(42)  # 21 + 21


def test_revoked_entry_and_its_revoking_entry_do_not_count(world):
    teacher = world.teachers["teacher_a1"]
    wrong = entry(teacher, 2022, Category.PROFESSIONAL, 50, title="误登记的培训")
    entry(teacher, 2022, Category.PROFESSIONAL, -50, title="误登记的培训", source=Source.CORRECTION, revokes=wrong)
    # A public topic revoked the same way: counting the revoked entry would give the topic 10 hours.
    topic = entry(teacher, 2022, Category.PUBLIC, 10, title="重复导入的专题")
    entry(teacher, 2022, Category.PUBLIC, -10, title="重复导入的专题", source=Source.CORRECTION, revokes=topic)
    give(teacher, 2022, public=30, professional=42, elective=18)
    verify(world, 2022)
    r = result(teacher, 2022)
    assert (r.public, r.professional_own, r.carry_out, r.status) == (D(30), D(42), D(0), PASSED)


def test_tenths_of_an_hour_add_up_exactly(world):
    """Summed as binary floats (SQLite's SUM), 0.2 + 29.4 + 0.4 is 29.999999999999996: the engine must still
    see exactly 30 public hours (the 2022 minimum), 0.3 + 41.4 + 0.3 exactly 42 and 0.2 + 17.4 + 0.4 exactly 18."""
    teacher = world.teachers["teacher_a1"]
    for category, parts in (
        (Category.PUBLIC, ("0.2", "29.4", "0.4")),
        (Category.PROFESSIONAL, ("0.3", "41.4", "0.3")),
        (Category.ELECTIVE, ("0.2", "17.4", "0.4")),
    ):
        for i, hours in enumerate(parts):
            entry(teacher, 2022, category, hours, title=f"{category}-{i}")
    verify(world, 2022)
    r = result(teacher, 2022)
    assert (r.public, r.professional, r.elective, r.total) == (D("30.0"), D("42.0"), D("18.0"), D("90.0"))
    assert (r.status, r.short_public, r.short_professional, r.short_elective, r.short_total) == (PASSED, 0, 0, 0, 0)


def test_a_total_of_four_parts_is_exact(world):
    """2019 (72/18/42/0): 18 public + 0.4 carried in + 46.3 own professional + 7.3 elective is exactly 72; as
    binary floats, added left to right, it is 71.99999999999999, which must not fail the teacher by a hair."""
    teacher = world.teachers["teacher_a1"]
    VerificationResult.objects.create(
        teacher=teacher, year=2018, school=teacher.school, status=PASSED, carry_out=D("0.4"), public=D(18), total=D(72)
    )
    entry(teacher, 2019, Category.PUBLIC, "18", title="公需")
    entry(teacher, 2019, Category.PROFESSIONAL, "46.3", title="专业")
    entry(teacher, 2019, Category.ELECTIVE, "7.3", title="选修")
    verify(world, 2019)
    r = result(teacher, 2019)
    assert (r.carry_in, r.professional, r.total, r.short_total, r.status) == (D("0.4"), D("46.7"), D("72.0"), 0, PASSED)
    assert r.carry_out == 0  # min(46.7 - 42, 72 - 72) = 0


def test_carry_out_and_shortfalls_are_stored_to_the_tenth(world):
    """0.3 carried in + 50.3 own professional hours carry out exactly 8.6 (50.6 - 42), not 8.600000000000001
    (floats on SQLite): a query for 8.6 finds it, and next year's carry-in is exactly 8.6 too."""
    teacher, other = world.teachers["teacher_a1"], world.teachers["teacher_a2"]
    VerificationResult.objects.create(teacher=teacher, year=2021, school=teacher.school, status=PASSED, carry_out=D("0.3"))
    give(teacher, 2022, public=30, professional="50.3", elective=18)
    give(other, 2022, public="29.7", professional="41.9", elective="17.7")  # short 0.3, 0.1, 0.3 and 0.7
    verify(world, 2022)
    assert VerificationResult.objects.filter(year=2022, carry_out=D("8.6")).get().teacher == teacher
    shorts = VerificationResult.objects.filter(
        year=2022, short_public=D("0.3"), short_professional=D("0.1"), short_elective=D("0.3"), short_total=D("0.7")
    )
    assert shorts.get().teacher == other
    assert VerificationResult.objects.filter(year=2021, carry_out=D("0.3")).exists()


def test_carry_over_entries_in_the_ledger_are_not_counted_twice(world):
    """After 2022 is finalised its carry-over is in the 2023 ledger; the 2023 run counts it once, as carry-in."""
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2022, public=30, professional=50, elective=18)  # carries 8
    entry(teacher, 2023, Category.PROFESSIONAL, 8, title="2022年度结转的专业科目学时", source=Source.CARRY_OVER)
    give(teacher, 2023, public=30, professional=34, elective=18)
    verify(world, 2022)
    verify(world, 2023)
    r = result(teacher, 2023)
    # 8 carried + 34 own = 42 (not 50), carry-out min(34, 0) = 0
    assert (r.carry_in, r.professional_own, r.professional, r.carry_out) == (D(8), D(34), D(42), D(0))


# --- exemption ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["district_a_admin", "city_admin"])
def test_exempt_teacher_is_exempt_and_carries_nothing(world, persona):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2022, public=30, professional=60, elective=18)  # would carry 18
    services.exemption_set(role=world.roles[persona], actor=world.users[persona], teacher=teacher, year=2022, reason="援藏支教")
    verify(world, 2022)
    r = result(teacher, 2022)
    assert (r.status, r.carry_out) == (EXEMPT, D(0))
    assert result(world.teachers["teacher_a2"], 2022).status == FAILED  # the others are still verified


def test_other_district_cannot_exempt_a_teacher(world):
    with pytest.raises(NotFound):
        services.exemption_set(
            role=world.roles["district_b_admin"],
            actor=world.users["district_b_admin"],
            teacher=world.teachers["teacher_a1"],
            year=2022,
            reason="x",
        )


def test_school_admin_cannot_exempt(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.exemption_set(
            role=world.roles["school_a1_admin"],
            actor=world.users["school_a1_admin"],
            teacher=world.teachers["teacher_a1"],
            year=2022,
            reason="x",
        )


def test_removing_the_exemption_verifies_the_teacher_again(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2022, public=30, professional=60, elective=18)
    role, user = world.roles["district_a_admin"], world.users["district_a_admin"]
    services.exemption_set(role=role, actor=user, teacher=teacher, year=2022, reason="病休")
    verify(world, 2022)
    services.exemption_remove(role=role, teacher=teacher, year=2022)
    verify(world, 2022)
    assert (result(teacher, 2022).status, result(teacher, 2022).carry_out) == (PASSED, D(18))  # 60 - 42


# --- a year without a policy ------------------------------------------------------------------------------------


def test_verifying_a_year_without_policy_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        verify(world, 2020)
    assert "2020" in " ".join(exc.value.messages)
    assert not VerificationRun.objects.filter(year=2020).exists()


def test_verify_year_command_refuses_a_year_without_policy(world):
    with pytest.raises(CommandError, match="2020"):
        call_command("verify_year", "2020")
    assert not VerificationRun.objects.exists()


def test_run_page_shows_why_a_year_without_policy_cannot_be_verified(world):
    response = world.client("city_admin").post("/verification/runs/", {"year": 2020}, follow=True)
    assert response.status_code == 200
    assert "2020年度尚未设定验证标准" in response.content.decode()
    assert not VerificationRun.objects.exists()
