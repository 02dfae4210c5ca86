"""Database housekeeping shared by the jobs that rewrite tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Model


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's planner statistics for the tables of `models` (after a job rewrote them).

    Why: without autovacuum keeping up (or before it gets round to it), the planner keeps the row
    counts of before the job: after a first verification run it believed a year had 1 result and
    chose a plan 1000× slower for the results list. No-op on other databases."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


@contextmanager
def serial_plans() -> Iterator[None]:
    """Run the statements inside without parallel workers (PostgreSQL, in a transaction: `SET LOCAL`, which
    a pooler in transaction mode keeps to this transaction too; elsewhere nothing).

    Why: for a page walked in index order that keeps few of the rows it reads (the review queue searched for
    a common surname: ~1 row in 100 kept), the planner prices a Gather Merge of two walks below one walk, but
    each participant walks until it has rows to merge: at 200,000 teachers 11,000–14,000 buffers and 31–46 ms
    instead of 3,800 buffers and 6–9 ms serially, more again on a busy machine where the worker waits for a
    core."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield
