"""Database housekeeping shared by the jobs that rewrite tables."""

from __future__ import annotations

from django.db import connection
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
