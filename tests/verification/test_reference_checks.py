"""A year's first run checks its results' foreign keys once per chunk (verification.engine.with_reference_checks)
instead of once per row: the same results, the same refusals, nothing else skipped (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from accounts.models import Teacher
from verification import engine
from verification.models import VerificationResult, VerificationRun

from ..factories import TeacherFactory
from .conftest import give, verify

pytestmark = pytest.mark.postgres
D = Decimal
RESULT = VerificationResult._meta.db_table


def snapshot(year: int) -> dict[int, dict]:
    return {
        r.teacher_id: {k: v for k, v in model_to_dict(r).items() if k not in ("id", "run", "computed_at")}
        for r in VerificationResult.objects.filter(year=year)
    }


@pytest.fixture
def hours_2022(world):
    t = world.teachers
    give(t["teacher_a1"], 2022, public=30, professional=50, elective=18)
    give(t["teacher_a2"], 2022, public=20, professional=42, elective=18)
    give(t["teacher_c1"], 2022, public=30, professional=40, elective=20)
    return world


def role() -> str:
    with connection.cursor() as cur:
        cur.execute("SHOW session_replication_role")
        return cur.fetchone()[0]


def test_a_first_run_checks_once_per_chunk_and_writes_what_the_row_checks_write(hours_2022, settings):
    world = hours_2022
    assert engine.set_based_reference_checks()  # the test database's role is a superuser
    with CaptureQueriesContext(connection) as ctx:
        verify(world, 2022)
    statements = [q["sql"] for q in ctx.captured_queries]
    assert any(s.startswith("WITH written AS (") and "FOR KEY SHARE" in s for s in statements)
    assert "SET LOCAL session_replication_role = DEFAULT" in statements
    assert role() == "origin"  # inside the test's transaction: the chunk set it back
    set_based = snapshot(2022)

    VerificationResult.objects.filter(year=2022).delete()
    settings.VERIFY_SET_BASED_CHECKS = False
    assert not engine.set_based_reference_checks()
    with CaptureQueriesContext(connection) as ctx:
        verify(world, 2022)
    assert not any("session_replication_role" in q["sql"] for q in ctx.captured_queries)
    assert snapshot(2022) == set_based
    assert len(set_based) == len(world.teachers)


def test_a_result_whose_school_does_not_exist_is_refused(hours_2022):
    """The statement's own check refuses what the per-row check would: a result naming a missing school
    (written by hand here; the chunk statement takes every key from the rows it reads)."""
    world = hours_2022
    run = VerificationRun.objects.create(year=2022)
    teacher = world.teachers["teacher_a1"]
    columns = list(engine.UPSERT_COLUMNS)
    values = {"teacher_id": teacher.pk, "year": 2022, "run_id": run.pk, "school_id": 987654321, "status": "passed"}
    insert = f"INSERT INTO {RESULT} ({', '.join(columns)}) VALUES ({', '.join('%s' for _ in columns)})"
    params = [values.get(c, D(0)) if c != "computed_at" else run.started_at for c in columns]
    with pytest.raises(IntegrityError, match="1 school"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
            engine.insert_checked(cur, insert, params)
    assert role() == "origin"
    assert not VerificationResult.objects.filter(year=2022).exists()
    # and a result with every key present is written
    params[columns.index("school_id")] = teacher.school_id
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")
        assert engine.insert_checked(cur, insert, params) == 1
    assert role() == "origin"
    assert VerificationResult.objects.get(year=2022).school_id == teacher.school_id


def test_the_replica_role_skips_no_trigger_but_the_three_foreign_key_checks(db):
    """`session_replication_role = replica` skips every ordinary trigger of the statement, not only the
    foreign keys' checks that `with_reference_checks` does itself: the results table must have no other
    trigger that fires on INSERT. (Add one, and the first run's chunk would skip it: see engine.insert_checked.)"""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT t.tgname, c.conname, c.confrelid::regclass::text FROM pg_trigger t
               LEFT JOIN pg_constraint c ON c.oid = t.tgconstraint
               WHERE t.tgrelid = %s::regclass AND (t.tgtype & 4) <> 0""",  # TRIGGER_TYPE_INSERT
            [RESULT],
        )
        fires_on_insert = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM pg_rules WHERE tablename = %s", [RESULT])
        assert cur.fetchone()[0] == 0
    referenced = sorted(row[2] for row in fires_on_insert)
    assert all(row[1] is not None for row in fires_on_insert), fires_on_insert  # only constraint triggers
    assert referenced == ["accounts_organisation", "accounts_teacher", "verification_verificationrun"], fires_on_insert


@pytest.mark.parametrize("set_based", [True, False], ids=["once per chunk", "per row"])
def test_a_teacher_deleted_while_the_chunk_waits_for_its_row_gets_no_result(transactional_db, hours_2022, settings, set_based):
    """Another transaction deletes a teacher (and holds the row) after the chunk's snapshot saw it: the chunk's
    lock waits for it, finds the row gone, refuses the block as the foreign key would, and writes it again
    without the teacher. No result refers to a teacher that no longer exists."""
    from verification.models import YearPolicy

    settings.VERIFY_SET_BASED_CHECKS = set_based
    world = hours_2022
    YearPolicy.objects.get_or_create(
        year=2022,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    leaver = TeacherFactory(school=world.school_a1)
    run = VerificationRun.objects.create(
        year=2022, total=5, chunks=1, chunk_plan=[{"from": None, "to": None, "scope": world.city.path}]
    )
    deleted, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def delete_and_hold():
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"DELETE FROM {Teacher._meta.db_table} WHERE id = %s", [leaver.pk])
                deleted.set()
                release.wait(timeout=20)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=delete_and_hold)
    holder.start()
    assert deleted.wait(timeout=10)

    def release_once_the_chunk_waits():
        with connections["default"].temporary_connection() as cur:
            for _ in range(200):
                cur.execute(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cur.fetchone()[0]:
                    break
                time.sleep(0.05)
        release.set()

    releaser = threading.Thread(target=release_once_the_chunk_waits)
    releaser.start()
    try:
        with CaptureQueriesContext(connection) as ctx:
            written = engine.verify_chunk(run.pk, run.chunk_plan[0])
    finally:
        release.set()
        holder.join(timeout=20)
        releaser.join(timeout=20)
    assert not failures, failures
    writes = [q["sql"] for q in ctx.captured_queries if f"INSERT INTO {connection.ops.quote_name(RESULT)}" in q["sql"]]
    assert ["DO UPDATE SET" in sql for sql in writes] == [False, True]  # refused, then written again by the upsert
    assert not Teacher.objects.filter(pk=leaver.pk).exists()
    assert written == len(world.teachers)
    assert set(VerificationResult.objects.filter(year=2022).values_list("teacher_id", flat=True)) == {
        t.pk for t in world.teachers.values()
    }
