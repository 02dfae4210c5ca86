"""Verification runs: repeatable, restartable after an interruption, one at a time, per district, and
closed for good once the year is finalised."""

from __future__ import annotations

import datetime
import functools
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts import services as accounts_services
from cpd.errors import StateConflict
from hours.ledger import entry_create
from hours.models import Category, LedgerEntry, Source, Year
from verification import services
from verification.engine import verify_chunk
from verification.models import Confirmation, ResultStatus, RunStatus, VerificationResult, VerificationRun, YearPolicy

from ..concurrency import race
from .conftest import give, result, verify

D = Decimal


@pytest.fixture
def hours_2022(world):
    """2022 (90/30/42/18, 2022 rule) for the four persona teachers, with 2021 carry-in for c1:

    a1 passes, professional 50 → carries 8; a2 fails (public 10 short); b1 exempt;
    c1 passes with 5 carried in from a 2021 result (2021 has no policy, so the row is written by hand).
    """
    t = world.teachers
    give(t["teacher_a1"], 2022, public=30, professional=50, elective=18)
    give(t["teacher_a2"], 2022, public=20, professional=42, elective=18)
    give(t["teacher_b1"], 2022, public=30, professional=60, elective=18)
    give(t["teacher_c1"], 2022, public=30, professional=40, elective=20)
    VerificationResult.objects.create(
        teacher=t["teacher_c1"], year=2021, school=world.school_c1, status=ResultStatus.PASSED, carry_out=D(5)
    )
    services.exemption_set(
        role=world.roles["city_admin"], actor=world.users["city_admin"], teacher=t["teacher_b1"], year=2022, reason="援疆"
    )
    return world


def snapshot(year: int) -> dict[int, dict]:
    """Every field of every result of the year, except which run wrote it and when."""
    return {
        r.teacher_id: {k: v for k, v in model_to_dict(r).items() if k not in ("run", "computed_at")}
        for r in VerificationResult.objects.filter(year=year)
    }


def test_run_results_match_the_rules(hours_2022):
    world = hours_2022
    run = verify(world, 2022)
    assert (run.status, run.total, run.counts) == (RunStatus.DONE, 4, {"passed": 2, "failed": 1, "exempt": 1})
    a1, c1 = result(world.teachers["teacher_a1"], 2022), result(world.teachers["teacher_c1"], 2022)
    assert (a1.carry_out, a1.total) == (D(8), D(98))
    # c1: 5 carried in + 40 own = 45; carry-out min(own 40, 45 - 42) = 3; total 30 + 45 + 20 = 95
    assert (c1.carry_in, c1.professional, c1.carry_out, c1.total) == (D(5), D(45), D(3), D(95))


def test_repeating_a_run_gives_identical_results(hours_2022):
    world = hours_2022
    first = verify(world, 2022)
    before = snapshot(2022)
    second = verify(world, 2022)
    assert second.pk != first.pk
    assert snapshot(2022) == before
    assert len(before) == 4
    assert second.counts == first.counts
    assert set(VerificationResult.objects.filter(year=2022).values_list("run_id", flat=True)) == {second.pk}


def _half_done_run(world, year: int) -> VerificationRun:
    """A run whose worker stopped after two of its four chunks (one school each)."""
    run = VerificationRun.objects.create(year=year, started_by=world.users["city_admin"], total=4, chunks=4)
    for school in (world.school_a1, world.school_b1):
        assert verify_chunk(run.pk, [school.pk]) == 1
    return run


def test_interrupted_run_restarted_gives_the_same_results_as_an_uninterrupted_one(hours_2022):
    world = hours_2022
    uninterrupted = verify(world, 2022)
    expected = snapshot(2022)
    # Something changes and is undone again, so the half-done run starts from different rows.
    VerificationResult.objects.filter(year=2022).update(public=D(0), status=ResultStatus.FAILED, carry_out=D(0))

    stalled = _half_done_run(world, 2022)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        restarted = verify(world, 2022)
    stalled.refresh_from_db()
    assert stalled.status == RunStatus.INTERRUPTED
    assert restarted.status == RunStatus.DONE
    assert snapshot(2022) == expected
    assert restarted.counts == uninterrupted.counts
    # A late chunk of the interrupted run writes nothing over the new results.
    assert verify_chunk(stalled.pk, [world.school_a2.pk]) == 0
    assert set(VerificationResult.objects.filter(year=2022).values_list("run_id", flat=True)) == {restarted.pk}


def test_a_chunk_whose_run_was_interrupted_while_it_started_writes_nothing(hours_2022, monkeypatch):
    """The run is marked interrupted between the chunk reading it as running and the chunk's statement:
    the statement itself checks the run's status, so nothing is written over a newer run's results."""
    world = hours_2022
    run = VerificationRun.objects.create(year=2022, total=1, chunks=1, status=RunStatus.INTERRUPTED)
    as_read_before = VerificationRun(pk=run.pk, year=2022, status=RunStatus.RUNNING)
    monkeypatch.setattr(VerificationRun.objects, "get", lambda **kw: as_read_before)

    assert verify_chunk(run.pk, [world.school_a1.pk]) == 0
    assert not VerificationResult.objects.filter(year=2022).exists()


def test_second_start_while_a_run_is_fresh_is_refused(hours_2022):
    world = hours_2022
    running = _half_done_run(world, 2022)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=10)):  # heartbeat 10 minutes old: still alive
        with pytest.raises(StateConflict):
            verify(world, 2022)
        response = world.client("city_admin").post("/verification/runs/", {"year": 2022}, follow=True)
    assert "2022年度的验证正在进行中" in response.content.decode()
    assert VerificationRun.objects.filter(year=2022).count() == 1
    running.refresh_from_db()
    assert running.status == RunStatus.RUNNING


def test_a_run_of_another_year_may_start_while_one_runs(hours_2022):
    world = hours_2022
    _half_done_run(world, 2022)
    assert verify(world, 2023).status == RunStatus.DONE


def test_run_page_shows_progress_then_counts(hours_2022):
    world = hours_2022
    client = world.client("city_admin")
    running = _half_done_run(world, 2022)
    page = client.get(f"/verification/runs/{running.pk}/").content.decode()
    assert "已完成 2 / 4 名教师" in page
    assert 'data-testid="count-passed"' not in page
    # htmx polls the partial while running
    partial = client.get(f"/verification/runs/{running.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "已完成 2 / 4" in partial and "<html" not in partial and "hx-trigger" in partial

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        done = verify(world, 2022)
    page = client.get(f"/verification/runs/{done.pk}/").content.decode()
    assert "已完成 4 / 4 名教师" in page
    assert re.search(r'data-testid="count-passed">\s*2<', page)
    assert re.search(r'data-testid="count-failed">\s*1<', page)
    assert "hx-trigger" not in page


def test_run_page_is_for_the_city_only(hours_2022):
    run = verify(hours_2022, 2022)
    assert hours_2022.client("district_a_admin").get(f"/verification/runs/{run.pk}/").status_code == 403


def test_starting_a_run_from_the_page_verifies_and_redirects_to_it(hours_2022):
    response = hours_2022.client("city_admin").post("/verification/runs/", {"year": 2022})
    run = VerificationRun.objects.get(year=2022)
    assert response.status_code == 302 and response["Location"] == f"/verification/runs/{run.pk}/"
    assert VerificationResult.objects.filter(year=2022).count() == 4


# --- the management command ---------------------------------------------------------------------------------


def test_verify_year_command_prints_the_counts(hours_2022):
    out = io.StringIO()
    call_command("verify_year", "2022", stdout=out)
    text = out.getvalue()
    assert "4 teachers" in text
    assert "passed: 2" in text and "failed: 1" in text and "exempt: 1" in text


def test_verify_year_for_one_district_touches_only_that_district(hours_2022):
    world = hours_2022
    city_run = verify(world, 2022)
    before = snapshot(2022)
    a1, b1 = world.teachers["teacher_a1"], world.teachers["teacher_b1"]
    give(a1, 2022, professional=10)  # a1: 60 professional → carries 18
    give(b1, 2022, public=5)
    out = io.StringIO()
    call_command("verify_year", "2022", "--district", world.district_a.code, stdout=out)
    assert "2 teachers" in out.getvalue() and "passed: 1" in out.getvalue() and "failed: 1" in out.getvalue()
    district_run = VerificationRun.objects.exclude(pk=city_run.pk).get()
    assert district_run.district == world.district_a
    assert (result(a1, 2022).carry_out, result(a1, 2022).run_id) == (D(18), district_run.pk)
    # b1 (district B) and c1 (city-direct) keep the city run's rows, untouched
    for persona in ("teacher_b1", "teacher_c1"):
        r = result(world.teachers[persona], 2022)
        assert r.run_id == city_run.pk
        assert snapshot(2022)[r.teacher_id] == before[r.teacher_id]


def test_verify_year_command_unknown_district(hours_2022):
    with pytest.raises(CommandError, match="XX"):
        call_command("verify_year", "2022", "--district", "XX")


def test_verify_year_command_refuses_while_a_run_is_fresh(hours_2022):
    _half_done_run(hours_2022, 2022)
    with pytest.raises(CommandError, match="正在进行中"):
        call_command("verify_year", "2022")


# --- finalisation --------------------------------------------------------------------------------------------


def _finalise(world, year: int):
    """Every district confirmed (the workflow itself is tested in test_workflow), then the city finalises."""
    for unit in (world.district_a, world.district_b, world.city_direct):
        Confirmation.objects.get_or_create(organisation=unit, year=year)
    return services.year_finalise(role=world.roles["city_admin"], actor=world.users["city_admin"], year=year)


def test_finalising_writes_carry_over_into_next_year_once(hours_2022):
    world = hours_2022
    verify(world, 2022)
    _finalise(world, 2022)
    carried = LedgerEntry.objects.filter(source=Source.CARRY_OVER)
    # a1 carries 8, c1 carries 3; a2 failed and b1 is exempt: nothing
    assert sorted((e.teacher_id, e.year, e.category, e.hours) for e in carried) == sorted(
        [
            (world.teachers["teacher_a1"].pk, 2023, Category.PROFESSIONAL, D(8)),
            (world.teachers["teacher_c1"].pk, 2023, Category.PROFESSIONAL, D(3)),
        ]
    )
    with pytest.raises(StateConflict):
        services.year_finalise(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2022)
    assert carried.count() == 2


def test_finalised_year_refuses_runs_and_new_hours(hours_2022):
    world = hours_2022
    verify(world, 2022)
    _finalise(world, 2022)
    assert Year.objects.get(year=2022).locked_at is not None
    with pytest.raises(StateConflict):
        verify(world, 2022)
    with pytest.raises(CommandError, match="定稿"):
        call_command("verify_year", "2022")
    with pytest.raises(StateConflict):
        entry_create(
            teacher=world.teachers["teacher_a2"],
            year=2022,
            category=Category.PUBLIC,
            hours=D(10),
            source=Source.REGISTRATION,
            title="补登记",
        )
    assert not LedgerEntry.objects.filter(year=2022, title="补登记").exists()
    with pytest.raises(StateConflict):
        services.exemption_set(
            role=world.roles["city_admin"],
            actor=world.users["city_admin"],
            teacher=world.teachers["teacher_a2"],
            year=2022,
            reason="x",
        )
    # the next year is still open and counts the carry-over once
    give(world.teachers["teacher_a1"], 2023, public=30, professional=34, elective=18)
    verify(world, 2023)
    r = result(world.teachers["teacher_a1"], 2023)
    assert (r.carry_in, r.professional, r.status) == (D(8), D(42), ResultStatus.PASSED)


def test_finalising_is_refused_while_a_run_is_going(hours_2022):
    world = hours_2022
    verify(world, 2022)
    _half_done_run(world, 2022)
    with pytest.raises(StateConflict):
        _finalise(world, 2022)
    assert not LedgerEntry.objects.filter(source=Source.CARRY_OVER).exists()


# --- teachers who leave -----------------------------------------------------------------------------------------


def test_results_of_a_teacher_who_retired_disappear_on_the_next_run(hours_2022):
    world = hours_2022
    verify(world, 2022)
    a2, b1 = world.teachers["teacher_a2"], world.teachers["teacher_b1"]
    accounts_services.teacher_retire(role=world.roles["school_a2_admin"], teacher=a2, actor=world.users["school_a2_admin"])
    accounts_services.teacher_retire(role=world.roles["school_b1_admin"], teacher=b1, actor=world.users["school_b1_admin"])
    # A district A run drops a2 only: b1 is outside its scope.
    district_run = verify(world, 2022, district=world.district_a)
    assert district_run.total == 1
    assert not VerificationResult.objects.filter(teacher=a2, year=2022).exists()
    assert VerificationResult.objects.filter(teacher=b1, year=2022).exists()
    city_run = verify(world, 2022)
    assert city_run.total == 2
    assert set(VerificationResult.objects.filter(year=2022).values_list("teacher_id", flat=True)) == {
        world.teachers["teacher_a1"].pk,
        world.teachers["teacher_c1"].pk,
    }
    assert city_run.counts == {"passed": 2}


def test_interrupted_run_page_does_not_claim_it_finished(hours_2022):
    world = hours_2022
    stalled = _half_done_run(world, 2022)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        verify(world, 2022)
    html = world.client("city_admin").get(f"/verification/runs/{stalled.pk}/").content.decode()
    assert "已中断" in html
    # its two results were taken over by the new run: it finished none of the four
    assert "已完成 0 / 4 名教师" in html
    assert 'data-testid="count-passed"' not in html


def test_run_completes_when_a_teacher_who_complained_has_retired(hours_2022):
    """The complaint keeps its record, so the result it is about stays; the run still finishes."""
    world = hours_2022
    verify(world, 2022)
    a1, a2 = world.teachers["teacher_a1"], world.teachers["teacher_a2"]
    services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=2022)
    services.complaint_file(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], year=2022, field="public", message="公需应为32学时"
    )
    for teacher, persona in ((a1, "school_a1_admin"), (a2, "school_a2_admin")):
        accounts_services.teacher_retire(role=world.roles[persona], teacher=teacher, actor=world.users[persona])
    run = verify(world, 2022)
    assert run.status == RunStatus.DONE and run.total == 2
    assert VerificationResult.objects.filter(teacher=a1, year=2022).exists()
    assert not VerificationResult.objects.filter(teacher=a2, year=2022).exists()


def test_a_teacher_leaving_during_a_run_does_not_keep_it_running(hours_2022):
    """The chunk plan is fixed at the start; a chunk whose teacher left meanwhile still completes the run."""
    from accounts.models import TeacherStatus
    from verification import services

    world = hours_2022
    run = VerificationRun.objects.create(
        year=2022,
        started_by=world.users["city_admin"],
        total=2,
        chunks=2,
        chunk_plan=[[world.school_a1.pk], [world.school_a2.pk]],
    )
    services.run_chunk(run.pk, 0)
    world.teachers["teacher_a2"].__class__.objects.filter(pk=world.teachers["teacher_a2"].pk).update(status=TeacherStatus.RETIRED)
    services.run_chunk(run.pk, 1)
    services.run_chunk(run.pk, 1)  # re-delivered: nothing new
    run = services.run_finish(run.pk)
    assert run.status == RunStatus.DONE
    assert run.total == 1
    assert run.done_chunks.count() == 2


@pytest.fixture
def policy_2022_kept(transactional_db):
    """The seeded 2022 policy, which an earlier transactional test's flush may have removed."""
    YearPolicy.objects.get_or_create(
        year=2022,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )


@pytest.mark.postgres
def test_chunks_verified_at_the_same_moment_by_several_workers(policy_2022_kept, hours_2022):
    """Four workers each take one chunk of the same run at once (as Celery spreads them): no deadlock on the
    run row or the foreign keys, every chunk counted once, and the figures those of a run in one process."""
    world = hours_2022
    schools = [world.school_a1, world.school_a2, world.school_b1, world.school_c1]
    run = VerificationRun.objects.create(
        year=2022, started_by=world.users["city_admin"], total=4, chunks=4, chunk_plan=[[s.pk] for s in schools]
    )

    outcomes = race([functools.partial(services.run_chunk, run.pk, i) for i in range(4)])

    assert outcomes == [1, 1, 1, 1], outcomes
    run = services.run_finish(run.pk)
    assert (run.status, run.counts) == (RunStatus.DONE, {"passed": 2, "failed": 1, "exempt": 1})
    in_parallel = snapshot(2022)
    verify(world, 2022)
    assert snapshot(2022) == in_parallel
    assert (
        in_parallel[world.teachers["teacher_a1"].pk]["carry_out"],
        in_parallel[world.teachers["teacher_c1"].pk]["carry_in"],
    ) == (
        D(8),
        D(5),
    )


def test_chunks_are_blocks_of_teacher_ids_covering_every_id(hours_2022, settings):
    """The plan cuts the active teachers in scope by id into blocks of VERIFY_CHUNK_TEACHERS; the blocks
    meet end to end (the first open below, the last above), and runs with blocks of 1, 2 and 3 teachers
    give the results of a run in one block."""
    world = hours_2022
    verify(world, 2022)
    expected = snapshot(2022)
    teacher_ids = sorted(t.pk for t in world.teachers.values())
    for limit in (1, 2, 3):
        settings.VERIFY_CHUNK_TEACHERS = limit
        run = verify(world, 2022)
        plan = run.chunk_plan
        assert (run.status, run.total, run.chunks, len(plan)) == (RunStatus.DONE, 4, -(-4 // limit), -(-4 // limit))
        assert plan[0]["from"] is None and plan[-1]["to"] is None
        assert all(a["to"] == b["from"] for a, b in zip(plan, plan[1:], strict=False))
        assert [c["from"] for c in plan[1:]] == teacher_ids[limit::limit]
        assert {c["scope"] for c in plan} == {world.city.path}
        assert snapshot(2022) == expected
        assert set(VerificationResult.objects.filter(year=2022).values_list("run_id", flat=True)) == {run.pk}


def test_a_district_run_in_blocks_of_one_teacher_verifies_only_that_district(hours_2022, settings):
    world = hours_2022
    settings.VERIFY_CHUNK_TEACHERS = 1
    run = verify(world, 2022, district=world.district_a)
    assert (run.status, run.total, run.chunks) == (RunStatus.DONE, 2, 2)
    assert {c["scope"] for c in run.chunk_plan} == {world.district_a.path}
    assert set(VerificationResult.objects.filter(year=2022).values_list("teacher_id", flat=True)) == {
        world.teachers["teacher_a1"].pk,
        world.teachers["teacher_a2"].pk,
    }


def test_a_teacher_who_joins_while_the_run_goes_on_is_verified_by_exactly_one_chunk(hours_2022, settings, monkeypatch):
    """Ids are never reused and the last block is open above: a teacher added after the plan was made
    falls in the last chunk, and in no other."""
    from ..factories import TeacherFactory

    world = hours_2022
    settings.VERIFY_CHUNK_TEACHERS = 2
    monkeypatch.setattr(services, "enqueue", lambda *a, **k: None)  # plan the run, run nothing yet
    run = services.run_start(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2022)
    newcomer = TeacherFactory(school=world.school_b1, name="新来的老师")
    give(newcomer, 2022, public=30, professional=45, elective=18)
    written = [services.run_chunk(run.pk, i) for i in range(len(run.chunk_plan))]
    run = services.run_finish(run.pk)
    assert written == [2, 3]
    assert (run.status, run.total, run.counts) == (RunStatus.DONE, 5, {"passed": 3, "failed": 1, "exempt": 1})
    mine = result(newcomer, 2022)
    assert (mine.status, mine.total, mine.carry_out, mine.run_id) == (ResultStatus.PASSED, D(93), D(3), run.pk)


def _chunk_writes(captured) -> list[str]:
    """The chunk statements among captured queries: "insert" (a plain INSERT, also when wrapped in the set-based
    foreign-key checks of `engine.with_reference_checks`) or "upsert"."""
    sqls = [re.sub(r"^WITH written AS \(\s*", "", q["sql"].lstrip()) for q in captured]
    inserts = [sql for sql in sqls if sql.upper().startswith("INSERT INTO") and "verificationresult" in sql]
    return ["upsert" if "DO UPDATE SET" in sql else "insert" for sql in inserts]


def test_a_first_run_inserts_and_a_rerun_updates_and_inserts_who_is_new(hours_2022):
    """The year's first run writes each block by a plain INSERT; a re-run, where one teacher is new and
    one teacher's hours changed, upserts: the others keep their figures, the changed and the new are
    right, and the counts count every teacher once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..factories import TeacherFactory

    world = hours_2022
    with CaptureQueriesContext(connection) as first_run:
        first = verify(world, 2022)
    assert _chunk_writes(first_run.captured_queries) == ["insert"]
    before = snapshot(2022)

    newcomer = TeacherFactory(school=world.school_b1, name="新来的老师")
    give(newcomer, 2022, public=30, professional=45, elective=18)
    a2 = world.teachers["teacher_a2"]
    was_a2 = result(a2, 2022)
    give(a2, 2022, public=30, professional=45, elective=18)  # enough for a pass now
    with CaptureQueriesContext(connection) as second_run:
        second = verify(world, 2022)
    assert _chunk_writes(second_run.captured_queries) == ["upsert"]

    after = snapshot(2022)
    assert set(after) == set(before) | {newcomer.pk}
    unchanged = set(before) - {a2.pk}
    assert {t: after[t] for t in unchanged} == {t: before[t] for t in unchanged}
    assert (was_a2.status, result(a2, 2022).status) == (ResultStatus.FAILED, ResultStatus.PASSED)
    mine = result(newcomer, 2022)
    assert (mine.status, mine.total, mine.run_id) == (ResultStatus.PASSED, D(93), second.pk)
    assert first.counts == {"passed": 2, "failed": 1, "exempt": 1}
    assert (second.total, second.counts) == (5, {"passed": 4, "exempt": 1})
    assert set(VerificationResult.objects.filter(year=2022).values_list("run_id", flat=True)) == {second.pk}


def test_a_block_whose_results_appear_after_the_check_is_written_by_the_upsert(hours_2022, monkeypatch):
    """Another worker inserts the block's results between this chunk's check and its INSERT (a
    re-delivered chunk): the unique index refuses the INSERT, and the chunk is written again by the
    upsert, with the figures of a run in one go."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from verification import engine

    world = hours_2022
    verify(world, 2022)
    expected = snapshot(2022)
    VerificationResult.objects.filter(year=2022).update(public=D(0), status=ResultStatus.FAILED)
    run = VerificationRun.objects.create(year=2022, total=4, chunks=1)
    monkeypatch.setattr(engine, "_block_results", lambda run, chunk: VerificationResult.objects.none())  # "none yet"

    with CaptureQueriesContext(connection) as ctx:
        written = verify_chunk(run.pk, {"from": None, "to": None, "scope": world.city.path})
    assert written == 4
    assert _chunk_writes(ctx.captured_queries) == ["insert", "upsert"]
    assert snapshot(2022) == expected
    assert set(VerificationResult.objects.filter(year=2022).values_list("run_id", flat=True)) == {run.pk}


@pytest.mark.postgres
def test_the_same_block_delivered_twice_at_once_on_a_fresh_year(policy_2022_kept, hours_2022):
    """Two workers take the same chunk of a year's first run at the same moment: both find no results
    and INSERT; the second waits for the first on the unique index, is refused, and upserts. No
    error, one result per teacher, the figures of a run in one process."""
    world = hours_2022
    run = VerificationRun.objects.create(
        year=2022,
        started_by=world.users["city_admin"],
        total=4,
        chunks=1,
        chunk_plan=[{"from": None, "to": None, "scope": world.city.path}],
    )

    outcomes = race([functools.partial(verify_chunk, run.pk, run.chunk_plan[0]) for _ in range(2)])

    assert outcomes == [4, 4], outcomes
    twice = snapshot(2022)
    assert VerificationResult.objects.filter(year=2022).count() == 4
    VerificationRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    verify(world, 2022)
    assert snapshot(2022) == twice
