"""A/B of one verification chunk's write, in rolled-back transactions, by PostgreSQL backend CPU (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_verify2_1m \\
        .venv/bin/python bench/ab_verification_chunk.py --chunks 10 60 110 --rounds 4 --variants rows set nofk

For each round, each chunk and each variant (the variants alternated, their order rotated every round), in
one transaction that is rolled back: a running run is created, the chunk's results of the year are deleted
(so the statement inserts them, as a year's first run does), and the chunk is written as the variant says.
The backend's CPU time (user + system, from /proc: the server runs on this machine; ticks of 10 ms) and the
wall time of the write are printed per variant, median and min. A machine shared with other work swings
wall times; the backend CPU of the same statement is steadier.

Variants:
  rows   the plain INSERT of a first run with its per-row foreign-key checks (made immediate, so that their
         cost, which a real chunk pays at commit, falls inside the timed statement)
  set    the set-based checks (`engine.with_reference_checks` under `session_replication_role = replica`)
  nofk   the plain INSERT with the three foreign keys dropped (inside the rolled-back transaction: the floor
         of what checking can cost; measurement only)
  noidx  `rows` with the results' school_id and run_id indexes dropped (likewise measurement only)
  select the chunk's SELECT alone, writing nothing
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for p in (BENCH.parent, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import datagen  # noqa: E402
from bench_verification import backend_cpu  # noqa: E402


class Rollback(Exception):
    pass


def one(year: int, chunk: dict, nchunks: int, variant: str) -> tuple[float, float]:
    from django.db import connection, transaction

    from verification import engine
    from verification.models import VerificationResult, VerificationRun

    table = VerificationResult._meta.db_table
    out = (0.0, 0.0)
    try:
        with transaction.atomic(), connection.cursor() as cur:
            run = VerificationRun.objects.create(year=year, chunks=nchunks, status="running")
            cur.execute(
                f"DELETE FROM {table} WHERE year = %s AND teacher_id >= %s AND teacher_id < %s",
                [year, chunk["from"] or 0, chunk["to"] or 2**62],
            )
            cur.execute("SET LOCAL work_mem = '32MB'")
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if variant == "nofk":
                cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", [table])
                for (name,) in cur.fetchall():
                    cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            if variant == "noidx":
                cur.execute(
                    "SELECT indexname FROM pg_indexes WHERE tablename = %s AND (indexdef LIKE '%%(school_id)' OR indexdef LIKE '%%(run_id)')",
                    [table],
                )
                for (name,) in cur.fetchall():
                    cur.execute(f'DROP INDEX "{name}"')
            sql, params = engine.chunk_statement(run, chunk, upsert=False)
            if variant == "set":
                cur.execute("SET LOCAL session_replication_role = replica")
                sql = engine.with_reference_checks(sql)
            elif variant == "select":
                sql = sql[sql.index("WITH chunk AS") :]
            t, c = time.perf_counter(), backend_cpu()
            cur.execute(sql, params)
            if variant == "set":
                row = cur.fetchone()
                assert row[0] == row[1] == row[2] and row[3] == row[4] and row[5] == 1, row
            out = (backend_cpu() - c, time.perf_counter() - t)
            raise Rollback
    except Rollback:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=int, default=datagen.YEAR)
    parser.add_argument("--chunks", type=int, nargs="+", default=[10])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["rows", "set"])
    args = parser.parse_args()
    datagen.django_setup()
    from django.conf import settings

    from accounts.models import Organisation, OrgKind, Teacher, TeacherStatus
    from verification.engine import plan_chunks

    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    teachers = Teacher.objects.filter(status=TeacherStatus.ACTIVE, school__path__startswith=city.path)
    _total, plan = plan_chunks(teachers, city.path, limit=settings.VERIFY_CHUNK_TEACHERS)
    cpu: dict[str, list[float]] = {v: [] for v in args.variants}
    wall: dict[str, list[float]] = {v: [] for v in args.variants}
    for r in range(args.rounds):
        order = args.variants[r % len(args.variants) :] + args.variants[: r % len(args.variants)]
        for index in args.chunks:
            for v in order:
                c, w = one(args.year, plan[index], len(plan), v)
                cpu[v].append(c)
                wall[v].append(w)
    import os

    print(f"chunks {args.chunks} of {len(plan)}, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    for v in args.variants:
        print(
            f"  {v:6s} backend CPU median {statistics.median(cpu[v]) * 1000:5.0f} ms (min {min(cpu[v]) * 1000:4.0f}), "
            f"wall median {statistics.median(wall[v]) * 1000:5.0f} ms (min {min(wall[v]) * 1000:4.0f})  n={len(cpu[v])}"
        )


if __name__ == "__main__":
    main()
