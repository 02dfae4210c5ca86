"""`cpd.batch`: scalar reads gathered into one statement give the answers the ORM gives one by one (counts,
capped counts, existence, a value with its type, nothing for an empty scope), and `run` asks one statement
per round, however many steps ask in it."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation, OrgKind, Teacher
from cpd import batch
from hours.models import Year

from .factories import TeacherFactory


def test_the_answers_are_the_orms_in_one_statement(world):
    TeacherFactory.create_batch(3, school=world.school_a1)
    Year.objects.create(
        year=2026,
        declaration_deadline=datetime.date(2026, 12, 20),
        school_review_deadline=datetime.date(2027, 1, 20),
        district_review_deadline=datetime.date(2027, 2, 20),
    )
    at_a1 = Teacher.objects.filter(school=world.school_a1)
    schools = Organisation.objects.filter(kind=OrgKind.SCHOOL)
    reads = [
        batch.count(at_a1),
        batch.capped(at_a1, 2),
        batch.capped(at_a1, 100),
        batch.exists(at_a1),
        batch.exists(Teacher.objects.filter(school=world.school_c1, name="无此人")),
        batch.value(Year.objects.filter(year=2026).values("district_review_deadline")),
        batch.value(Year.objects.filter(year=1999).values("district_review_deadline")),
        batch.value(schools.order_by("-code").values_list("code")),
        batch.smallest(schools, "code"),
        batch.total(Year.objects.all(), "year"),
        batch.total(Year.objects.filter(year=1999), "year"),
        batch.count(Teacher.objects.none()),
        batch.exists(Teacher.objects.filter(pk__in=[])),
    ]
    with CaptureQueriesContext(connection) as ctx:
        answers = batch.fetch(reads)
    assert len(ctx.captured_queries) == 1
    n = at_a1.count()
    assert answers == [
        n,
        (2, True),
        (n, False),
        True,
        False,
        datetime.date(2027, 2, 20),  # a date, also on SQLite (which hands back text)
        None,
        schools.order_by("-code").values_list("code", flat=True).first(),
        min(schools.values_list("code", flat=True)),
        2026,
        None,
        0,
        False,
    ]


def test_reads_known_to_be_empty_ask_nothing(world):
    with CaptureQueriesContext(connection) as ctx:
        answers = batch.fetch([batch.capped(Teacher.objects.none(), 10), batch.value(Teacher.objects.none().values("name"))])
    assert answers == [(0, False), None]
    assert ctx.captured_queries == []


def _step(qs, log):
    n = yield batch.count(qs)
    log.append(("counted", n))
    if n:
        first, anyone = yield (batch.value(qs.order_by("name").values("name")), batch.exists(qs))
        return (n, first, anyone)
    return (n, None, None)


def test_run_asks_one_statement_a_round_for_every_step(world):
    TeacherFactory(school=world.school_b1, name="甲")
    log: list = []
    steps = [
        _step(Teacher.objects.filter(school=world.school_b1), log),
        _step(Teacher.objects.filter(school=world.school_c1, name="无此人"), log),
        _step(Teacher.objects.filter(school=world.school_a1), log),
        "already known",  # an entry that is not a step is its own result
    ]
    first_b1 = Teacher.objects.filter(school=world.school_b1).order_by("name").values_list("name", flat=True).first()
    n_a1 = Teacher.objects.filter(school=world.school_a1).count()
    first_a1 = Teacher.objects.filter(school=world.school_a1).order_by("name").values_list("name", flat=True).first()
    n_b1 = Teacher.objects.filter(school=world.school_b1).count()
    with CaptureQueriesContext(connection) as ctx:
        results = batch.run(steps)
    # round 1: the three counts; round 2: the two steps with someone, a value and an existence test each
    assert len(ctx.captured_queries) == 2
    assert results == [(n_b1, first_b1, True), (0, None, None), (n_a1, first_a1, True), "already known"]
    assert batch.one(_step(Teacher.objects.filter(school=world.school_b1), [])) == results[0]
