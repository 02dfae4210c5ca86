"""EXPLAIN (ANALYZE, BUFFERS) of verification chunk statements on a data set a benchmark left (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_verify_200k \\
        .venv/bin/python bench/explain_verification.py --chunks 0 20 --plan ranges --plan schools

For each chunk index and plan kind (`ranges`: `engine.plan_chunks`, blocks of teacher ids; `schools`:
chunks of whole schools, as plans were before), inside one transaction that
is rolled back: a running run is created, the chunk's results of the year are deleted (so the statement
inserts them, as the first run of a year does), and the chunk statement is EXPLAINed with the foreign-key
checks made immediate (`SET CONSTRAINTS ALL IMMEDIATE`), so that their cost, which a real chunk pays at
commit, shows as "Trigger for constraint" lines. Prints the plan, or with --summary only the times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for p in (BENCH.parent, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import datagen  # noqa: E402


class Rollback(Exception):
    pass


def school_plan(teachers, limit: int) -> list[list[int]]:
    """The plan as it was before id ranges: schools in id order, grouped into chunks of at most `limit`
    active teachers (a big school whole)."""
    from django.db.models import Count

    sizes = teachers.values("school_id").annotate(n=Count("pk")).order_by("school_id").values_list("school_id", "n")
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for school_id, n in sizes:
        if current and size + n > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(school_id)
        size += n
    if current:
        chunks.append(current)
    return chunks


def explain(year: int, index: int, kind: str, *, summary: bool, update: bool, analyze: bool = True) -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from accounts.models import Organisation, OrgKind, Teacher, TeacherStatus
    from verification.engine import chunk_statement, plan_chunks
    from verification.models import VerificationResult, VerificationRun

    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    teachers = Teacher.objects.filter(status=TeacherStatus.ACTIVE, school__path__startswith=city.path)
    t = time.perf_counter()
    _total, plan = plan_chunks(teachers, city.path, limit=settings.VERIFY_CHUNK_TEACHERS)
    plan_s = time.perf_counter() - t
    chunk = plan[index] if kind == "ranges" else school_plan(teachers, settings.VERIFY_CHUNK_TEACHERS)[index]
    try:
        with transaction.atomic():
            if analyze and VerificationRun.objects.filter(year=year, status="running").exists():
                raise SystemExit(f"a run of {year} is going on: wait for it, or use --no-analyze")
            # Plan only: a run that is not running (the one running run of the year is left alone).
            run = VerificationRun.objects.create(year=year, chunks=len(plan), status="running" if analyze else "done")
            sql, params = chunk_statement(run, chunk)
            with connection.cursor() as cur:
                if not update and analyze:
                    if kind == "ranges":
                        doomed = teachers.filter(pk__gte=chunk["from"] or 0, pk__lt=chunk["to"] or 2**62)
                    else:
                        doomed = teachers.filter(school_id__in=chunk)
                    sub, sub_params = doomed.values("pk").query.sql_with_params()
                    cur.execute(
                        f"DELETE FROM {VerificationResult._meta.db_table} WHERE year = %s AND teacher_id IN ({sub})",
                        [year, *sub_params],
                    )
                cur.execute("SET LOCAL work_mem = '32MB'")
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cur.execute(("EXPLAIN (ANALYZE, BUFFERS, WAL) " if analyze else "EXPLAIN ") + sql, params)
                lines = [r[0] for r in cur.fetchall()]
            raise Rollback
    except Rollback:
        pass
    head = f"-- chunk {index} of {len(plan)} ({kind}{', ' + str(len(chunk)) + ' schools' if kind == 'schools' else ''}; {'update' if update else 'insert'}; plan_chunks {plan_s:.2f} s)"
    print(head)
    if summary:
        for line in lines:
            s = line.strip()
            # the Insert node with its buffers and WAL, the foreign-key triggers, JIT and the times
            if line.startswith(("Insert", "  Buffers:", "  WAL:")) or s.startswith(
                ("Trigger", "Execution Time", "Planning Time", "Timing:", "Functions:")
            ):
                print("  " + s)
    else:
        print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=int, default=datagen.YEAR)
    parser.add_argument("--chunks", type=int, nargs="+", default=[0])
    parser.add_argument("--plan", action="append", choices=["ranges", "schools"])
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--update", action="store_true", help="keep the chunk's results: the statement updates them")
    parser.add_argument("--no-analyze", action="store_true", help="only the plan (safe while a run writes the same rows)")
    args = parser.parse_args()
    datagen.django_setup()
    for index in args.chunks:
        for kind in args.plan or ["ranges"]:
            explain(args.year, index, kind, summary=args.summary, update=args.update, analyze=not args.no_analyze)


if __name__ == "__main__":
    main()
