"""Scalar reads gathered into one statement: a count, a capped count, an existence test or one value each,
read as subqueries of a single `SELECT (…), EXISTS(…), (…)`.

Why: a home page's to-do list asked the database a dozen small questions, each its own statement. Each was
cheap in the database (most well under a millisecond) and dear around it: the ORM's execution of a
statement, a round trip to the server, and on a machine whose cores are all busy, a wait for the server
process's turn, for every one of them. One statement per round costs one of each.

`run(steps)` drives several such questions at once. A step is a generator that yields what it wants to know
(a `Read`, or a tuple of them) and is sent the answers (a tuple for a tuple); it may also run its own
statements for what is not scalar (rows, lists), and returns its result. Every round, the reads that the
steps still waiting have yielded go out as one statement:

    def enrolments_step(role):
        count, more = yield capped(waiting, 1000)
        first = (yield value(deadline_of(waiting))) if count else None  # second round, only when needed
        return Item(count, more, first)

    run([enrolments_step(role), complaints_step(role)])  # two statements for the four reads

`one(step)` runs a single step (the same reads, one statement a round).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Min, QuerySet, Sum, Value

T = TypeVar("T")
Step = Generator[Any, Any, T]


@dataclass(frozen=True)
class Read:
    kind: str  # "count", "capped", "exists" or "value"
    qs: QuerySet
    cap: int = 0


def count(qs: QuerySet) -> Read:
    """The number of rows of `qs` (answered as an int)."""
    return Read("count", qs.order_by().values("pk"))


def capped(qs: QuerySet, cap: int) -> Read:
    """(count, more): exact up to `cap`, then `cap` and more=True, as `cpd.pagination.capped_count`: reads at
    most cap + 1 rows."""
    return Read("capped", qs.order_by().values("pk")[: cap + 1], cap)


def exists(qs: QuerySet) -> Read:
    """Whether `qs` has a row (answered as a bool)."""
    return Read("exists", qs.order_by().values("pk")[:1])


def value(qs: QuerySet) -> Read:
    """The first row's value of a one-column queryset (`values("x")` or `values_list("x")`, or an aggregate's
    `values`), in the queryset's order; None when it has no row."""
    return Read("value", qs[:1])


def smallest(qs: QuerySet, field: str) -> Read:
    """The least `field` over the rows of `qs` (MIN), None when it has none."""
    return Read("value", qs.order_by().values(_all=Value(1)).annotate(least=Min(field)).values("least"))


def total(qs: QuerySet, field: str) -> Read:
    """The sum of `field` over the rows of `qs` (SUM), None when it has none."""
    return Read("value", qs.order_by().values(_all=Value(1)).annotate(total=Sum(field)).values("total"))


_EMPTY = {"count": 0, "capped": None, "exists": False, "value": None}


def fetch(reads: Sequence[Read], using: str = "default") -> list[Any]:
    """The answers to `reads`, in order, from one statement (none when every read is known to be empty)."""
    connection = connections[using]
    columns: list[str] = []
    params: list[Any] = []
    asked: list[tuple[int, Read, Any]] = []  # (position, read, the value column's expression)
    answers: list[Any] = [(0, False) if r.kind == "capped" else _EMPTY[r.kind] for r in reads]
    for i, read in enumerate(reads):
        compiler = read.qs.query.get_compiler(using=using)
        try:
            sql, p = compiler.as_sql()
        except EmptyResultSet:
            continue  # e.g. a .none() scope: nothing to ask
        if read.kind in ("count", "capped"):
            columns.append(f"(SELECT COUNT(*) FROM ({sql}) q{i})")
        elif read.kind == "exists":
            columns.append(f"EXISTS({sql})")
        else:
            columns.append(f"({sql})")
        params += p
        asked.append((i, read, compiler.select[0][0] if read.kind == "value" else None))
    if not asked:
        return answers
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        row = cursor.fetchone()
    for (i, read, expression), raw in zip(asked, row, strict=True):
        if read.kind == "count":
            answers[i] = int(raw)
        elif read.kind == "capped":
            answers[i] = (min(int(raw), read.cap), int(raw) > read.cap)
        elif read.kind == "exists":
            answers[i] = bool(raw)
        else:
            answers[i] = _converted(raw, expression, connection)
    return answers


def _converted(raw: Any, expression: Any, connection: Any) -> Any:
    """The value as the ORM would have given it (SQLite's dates come back as text, its booleans as 0/1)."""
    if raw is None:
        return None
    for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
        raw = converter(raw, expression, connection)
    return raw


def run(steps: Sequence[Step[T] | T]) -> list[T]:
    """Drive `steps` together (see the module's docstring); their results in order. One statement per round
    of reads, however many steps ask in it. An entry that is not a generator is already a result (something
    that asked its own statements) and is given back as it is."""
    results: list[Any] = [None] * len(steps)
    waiting: dict[int, Any] = {}
    generators: dict[int, Generator[Any, Any, Any]] = {}

    def advance(i: int, answer: Any) -> None:
        try:
            waiting[i] = generators[i].send(answer)
        except StopIteration as done:
            waiting.pop(i, None)
            results[i] = done.value

    for i, step in enumerate(steps):
        if isinstance(step, Generator):
            generators[i] = step
            advance(i, None)
        else:
            results[i] = step
    while waiting:
        asked = list(waiting.items())
        flat = [r for _i, req in asked for r in (req if isinstance(req, tuple) else (req,))]
        answers = iter(fetch(flat))
        for i, req in asked:
            advance(i, tuple(next(answers) for _r in req) if isinstance(req, tuple) else next(answers))
    return results


def one(step: Step[T]) -> T:
    steps: list[Step[T] | T] = [step]
    return run(steps)[0]
