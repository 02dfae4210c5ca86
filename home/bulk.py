"""Inserts for the reminder job's big batches. On SQLite one `executemany` per batch (in-process, fast)
instead of Django's `bulk_create`, which there splits a batch into statements of at most 999 parameters
(~140 rows); elsewhere `bulk_create`, one multi-row INSERT per batch (psycopg2's executemany would
be a round trip per row)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction


def insert_many(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence], *, ignore_conflicts: bool = False
) -> None:
    """INSERT the rows (values in `fields` order) into `model`'s table; with `ignore_conflicts`, rows that
    would break a unique constraint are skipped (ON CONFLICT DO NOTHING, PostgreSQL and SQLite ≥ 3.24)."""
    meta = model._meta
    columns = [meta.get_field(f) for f in fields]
    if connection.vendor != "sqlite":
        objs = [model(**{c.attname: v for c, v in zip(columns, row, strict=True)}) for row in rows]
        model.objects.bulk_create(objs, batch_size=5000, ignore_conflicts=ignore_conflicts)
        return
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c.column) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    prepared = [[c.get_db_prep_value(v, connection, prepared=False) for c, v in zip(columns, row, strict=True)] for row in rows]
    if prepared:
        # One transaction: in autocommit SQLite would commit (and sync) every row of the executemany.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, prepared)
