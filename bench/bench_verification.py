"""Benchmark: verifying a whole year for N teachers (default 200,000, ≈2.4 M ledger entries).

    .venv/bin/python bench/bench_verification.py --teachers 200000          # temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench2 \\
        .venv/bin/python bench/bench_verification.py --teachers 200000       # drops and recreates cpd_bench2

A fresh database is migrated and filled by bench/datagen.py in a child process; then, in another
fresh child process (so that the memory figures are the verification's, not the data load's):
  1. `services.run_start(role=None, actor=None, year=Y, inline=True)`: wall time, CPU time of this
     process, peak RSS growth (VmHWM) and ru_maxrss growth;
  2. one hand-written SQL statement doing the same aggregation (INSERT … SELECT into a scratch table):
     public topics counted once via MAX per (teacher, title), professional and elective sums, last
     year's carry-out, exemptions, the pass/fail, shortfalls and carry-out computed in SQL, with the
     exclusions of engine.counted_entries (no revoked or revoking entry, no carry-over source);
  3. the same run again under tracemalloc (tracemalloc slows Python down, so its time is not the
     figure; this second run updates the rows the first one inserted).
The engine's pass count must equal the SQL's, and every teacher's figures must agree.
`--reuse` measures again on the data set an earlier run left in DATABASE_URL (PostgreSQL, or a
sqlite:/// file kept with --keep): the year's results and runs are deleted first (not timed), so the
first engine run inserts its rows as on a fresh data set. `--workers 2` also runs the year with its chunks
shared by two processes, after the one-process run (so it updates the rows that run wrote); with
`--fresh-workers` the year's results are deleted before it too (not timed), so both runs are first runs.
Goals: peak memory ≤ 300 MB, engine/SQL ≤ 2×. The exit status is 1 when a goal is missed or the
cross-check fails (bench/run.py starts this script with its defaults).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for p in (BENCH.parent, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import datagen  # noqa: E402

MEMORY_GOAL_MB = 300
RATIO_GOAL = 2.0
SCRATCH = "bench_scratch_result"


def result_columns() -> list[str]:
    """The result columns both sides write and `compare` checks: the engine's, less year, run and time
    (teacher_id, school_id, six hour figures, status, four shortfalls, carry_out)."""
    from verification.engine import UPSERT_COLUMNS

    return [c for c in UPSERT_COLUMNS if c not in ("year", "run_id", "computed_at")]


# One statement, the whole year: {greatest}/{least} are GREATEST/LEAST on PostgreSQL, MAX/MIN on SQLite.
VERIFY_SQL = """
INSERT INTO {scratch} ({columns})
WITH per_key AS (
    -- counted entries of active teachers in scope: a public topic once (its largest entry), other kinds summed
    SELECT le.teacher_id, le.category,
           CASE WHEN le.category = 'public' THEN MAX(le.hours) ELSE SUM(le.hours) END AS hours
    FROM hours_ledgerentry le
    JOIN accounts_teacher t ON t.id = le.teacher_id
    JOIN accounts_organisation s ON s.id = t.school_id
    WHERE le.year = %(year)s AND t.status = 'active' AND s.path LIKE %(scope)s
      AND le.revokes_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM hours_ledgerentry r WHERE r.revokes_id = le.id)
      AND le.source <> 'carry_over'
    GROUP BY le.teacher_id, le.category, CASE WHEN le.category = 'public' THEN le.title ELSE '' END
),
base AS (
    SELECT teacher_id, MAX(school_id) AS school_id, SUM(pub) AS public, SUM(prof) AS professional_own,
           SUM(elec) AS elective, SUM(carry) AS carry_in, MAX(exempt) AS exempt
    FROM (
        SELECT t.id AS teacher_id, t.school_id, 0 AS pub, 0 AS prof, 0 AS elec, 0 AS carry, 0 AS exempt
        FROM accounts_teacher t JOIN accounts_organisation s ON s.id = t.school_id
        WHERE t.status = 'active' AND s.path LIKE %(scope)s
        UNION ALL
        SELECT teacher_id, NULL,
               CASE WHEN category = 'public' THEN hours ELSE 0 END,
               CASE WHEN category = 'professional' THEN hours ELSE 0 END,
               CASE WHEN category = 'elective' THEN hours ELSE 0 END, 0, 0
        FROM per_key
        UNION ALL
        SELECT lr.teacher_id, NULL, 0, 0, 0, lr.carry_out, 0
        FROM verification_verificationresult lr
        JOIN accounts_teacher t ON t.id = lr.teacher_id JOIN accounts_organisation s ON s.id = t.school_id
        WHERE lr.year = %(last_year)s AND t.status = 'active' AND s.path LIKE %(scope)s
        UNION ALL
        SELECT ex.teacher_id, NULL, 0, 0, 0, 0, 1
        FROM verification_exemption ex
        JOIN accounts_teacher t ON t.id = ex.teacher_id JOIN accounts_organisation s ON s.id = t.school_id
        WHERE ex.year = %(year)s AND t.status = 'active' AND s.path LIKE %(scope)s
    ) x
    GROUP BY teacher_id
),
totals AS (
    SELECT b.*, carry_in + professional_own AS professional, public + carry_in + professional_own + elective AS total FROM base b
),
short AS (
    SELECT t.*,
           {greatest}(0, %(min_public)s - public) AS short_public,
           {greatest}(0, %(min_professional)s - professional) AS short_professional,
           {greatest}(0, %(min_elective)s - elective) AS short_elective,
           {greatest}(0, %(min_total)s - total) AS short_total
    FROM totals t
),
judged AS (
    SELECT s.*,
           CASE WHEN exempt = 1 THEN 'exempt'
                WHEN short_public = 0 AND short_professional = 0 AND short_elective = 0 AND short_total = 0 THEN 'passed'
                ELSE 'failed' END AS status
    FROM short s
)
SELECT teacher_id, school_id, public, professional_own, elective, carry_in, professional, total, status,
       short_public, short_professional, short_elective, short_total,
       CASE WHEN status = 'passed' AND %(carry_rule)s <> 'none'
            THEN {greatest}(0, {least}(professional_own,
                 CASE WHEN %(carry_rule)s = '2019'
                      THEN {least}(professional - %(min_professional)s, total - %(min_total)s)
                      ELSE professional - %(min_professional)s END))
            ELSE 0 END AS carry_out
FROM judged
"""


def run_sql(year: int, scope: str) -> dict:
    """Create the scratch table (not timed), then time the one INSERT … SELECT."""
    from django.db import connection, transaction

    from verification.models import YearPolicy

    policy = YearPolicy.objects.get(year=year)
    columns = result_columns()
    num = "numeric(7,1)" if connection.vendor == "postgresql" else "decimal"
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cur.execute(
            f"CREATE TABLE {SCRATCH} (teacher_id bigint, school_id bigint, "
            + ", ".join(f"{c} {num}" for c in columns[2:8])
            + ", status varchar(8), "
            + ", ".join(f"{c} {num}" for c in columns[9:])
            + ")"
        )
    fn = {"greatest": "GREATEST", "least": "LEAST"} if connection.vendor == "postgresql" else {"greatest": "MAX", "least": "MIN"}
    sql = VERIFY_SQL.format(scratch=SCRATCH, columns=", ".join(columns), **fn)
    params = {
        "scope": scope + "%",
        "year": year,
        "last_year": year - 1,
        "min_public": policy.min_public,
        "min_professional": policy.min_professional,
        "min_elective": policy.min_elective,
        "min_total": policy.min_total,
        "carry_rule": policy.carry_rule,
    }
    out: dict = {}
    db_cpu = backend_cpu()
    cpu = time.process_time()
    with datagen.measure(out):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)
            out["rows"] = cur.rowcount
    out["cpu_seconds"] = time.process_time() - cpu
    out["db_cpu_seconds"] = backend_cpu() - db_cpu if db_cpu is not None else None
    with connection.cursor() as cur:
        cur.execute(f"CREATE INDEX {SCRATCH}_teacher ON {SCRATCH} (teacher_id)")  # for compare(), not timed
        cur.execute(f"SELECT status, COUNT(*) FROM {SCRATCH} GROUP BY status")
        out["counts"] = dict(cur.fetchall())
    return out


def compare(year: int) -> dict:
    """Teachers whose engine result differs from the SQL's in any figure, and rows only one side has."""
    from django.db import connection

    cols = [c for c in result_columns() if c != "teacher_id"]
    differs = " OR ".join(f"v.{c} <> s.{c}" for c in cols)
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*) FROM verification_verificationresult v JOIN {SCRATCH} s ON s.teacher_id = v.teacher_id WHERE v.year = %s AND ({differs})",
            [year],
        )
        mismatched = cur.fetchone()[0]
        cur.execute(
            f"SELECT COUNT(*) FROM verification_verificationresult v WHERE v.year = %s AND NOT EXISTS (SELECT 1 FROM {SCRATCH} s WHERE s.teacher_id = v.teacher_id)",
            [year],
        )
        only_engine = cur.fetchone()[0]
        cur.execute(
            f"SELECT COUNT(*) FROM {SCRATCH} s WHERE NOT EXISTS (SELECT 1 FROM verification_verificationresult v WHERE v.year = %s AND v.teacher_id = s.teacher_id)",
            [year],
        )
        only_sql = cur.fetchone()[0]
    return {"mismatched": mismatched, "only_engine": only_engine, "only_sql": only_sql}


_BACKEND_PID: dict = {}


def backend_cpu() -> float | None:
    """CPU seconds (user + system) used so far by this connection's PostgreSQL backend, read from
    /proc (the server runs on this machine); None elsewhere. On a shared machine the backend's CPU
    time is a steadier measure of the work a statement does than its wall time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    key = id(connection.connection)
    if key not in _BACKEND_PID:  # one query per connection, not per reading (the phases read it per chunk)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            _BACKEND_PID[key] = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{_BACKEND_PID[key]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(phases: dict, name: str, fn):
    """`fn`, adding its wall time to phases[name] and its backend CPU to phases[name + "_db_cpu"]."""

    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), backend_cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
            if c is not None:
                phases[name + "_db_cpu"] = phases.get(name + "_db_cpu", 0.0) + (backend_cpu() or 0.0) - c

    return wrapper


def engine_run(year: int, *, trace: bool) -> dict:
    """`run_start(inline=True)` timed whole, and by phase: planning the chunks, the chunks, and
    `run_finish` after them (deleting results of teachers gone, counts, stored statistics, ANALYZE)."""
    from unittest import mock

    from verification import services

    out: dict = {}
    phases: dict = {}
    db_cpu = backend_cpu()
    cpu = time.process_time()
    with contextlib.ExitStack() as stack:
        for name, phase in (("plan_chunks", "plan"), ("chunks_for", "plan"), ("run_chunk", "chunks"), ("run_finish", "finish")):
            if hasattr(services, name):  # chunks_for: the plan of earlier versions (A/B runs of an older tree)
                stack.enter_context(mock.patch.object(services, name, _timed(phases, phase, getattr(services, name))))
        stack.enter_context(datagen.measure(out, trace=trace))
        run = services.run_start(role=None, actor=None, year=year, inline=True)
    out["cpu_seconds"] = time.process_time() - cpu
    out["db_cpu_seconds"] = backend_cpu() - db_cpu if db_cpu is not None else None
    out["phases"] = phases
    out["status"] = run.status
    out["total"] = run.total
    out["chunks"] = run.chunks
    out["counts"] = run.counts
    return out


def engine_run_workers(year: int, workers: int) -> dict:
    """The run's chunks shared by `workers` processes (what N Celery workers do: each takes chunks,
    each finishing chunk calls run_finish). Wall time from the start to the last worker done, worker
    start-up (Django set-up, ~1 s) included; the peak RSS of the largest worker."""
    import subprocess
    from unittest import mock

    from verification import services

    out: dict = {}
    started = time.perf_counter()
    with mock.patch.object(services, "enqueue", lambda *a, **k: None):  # plan the run, run nothing here
        run = services.run_start(role=None, actor=None, year=year)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--chunk-worker", str(run.pk), str(k), str(workers)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for k in range(workers)
    ]
    rss = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"chunk worker failed ({proc.returncode})")
        rss.append(json.loads(stdout.strip().splitlines()[-1])["maxrss_mb"])
    out["seconds"] = time.perf_counter() - started
    run.refresh_from_db()
    out.update(status=run.status, total=run.total, chunks=run.chunks, counts=run.counts, worker_maxrss_mb=max(rss))
    out["cpu_seconds"] = 0.0
    out["peak_rss_growth_mb"] = out["maxrss_delta_mb"] = 0.0
    out["maxrss_mb"] = max(rss)
    return out


def chunk_worker(run_id: int, k: int, workers: int) -> None:
    """One of `workers` processes: its share of the run's chunks, each followed by run_finish (as the task does)."""
    datagen.django_setup()
    from verification import services
    from verification.models import VerificationRun

    plan = VerificationRun.objects.get(pk=run_id).chunk_plan
    for index in range(k, len(plan), workers):
        services.run_chunk(run_id, index)
        services.run_finish(run_id)
    print(json.dumps({"maxrss_mb": datagen.rss_mb()}))


def reset_year(year: int) -> dict:
    """For --reuse: delete the year's results and runs (what earlier measurements wrote), vacuum and
    analyze the results, and count the data set for the report. Not timed."""
    from hours.models import LedgerEntry
    from verification.models import Exemption, VerificationResult

    t = time.perf_counter()
    delete_year(year)
    return {
        "year": year,
        "ledger": LedgerEntry.objects.filter(year=year).count(),
        "last_year_results": VerificationResult.objects.filter(year=year - 1).count(),
        "exemptions": Exemption.objects.filter(year=year).count(),
        "reused": True,
        "load_seconds": round(time.perf_counter() - t, 1),
    }


def delete_year(year: int) -> None:
    """The year's results and runs deleted, the scratch table dropped, the results vacuumed and analyzed."""
    from django.db import connection

    from verification.models import RunChunk, VerificationResult, VerificationRun

    # Plain DELETEs: QuerySet.delete() would load every result into Python to look for complaints.
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {VerificationResult._meta.db_table} WHERE year = %s", [year])
        cur.execute(
            f"DELETE FROM {RunChunk._meta.db_table} WHERE run_id IN (SELECT id FROM {VerificationRun._meta.db_table} WHERE year = %s)",
            [year],
        )
        cur.execute(f"DELETE FROM {VerificationRun._meta.db_table} WHERE year = %s", [year])
        cur.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        cur.execute(f"{'VACUUM ' if connection.vendor == 'postgresql' else ''}ANALYZE {VerificationResult._meta.db_table}")


def measure_child(args) -> dict:
    """The measurements, in a process that did nothing else yet."""
    datagen.django_setup()
    from accounts.models import Organisation, OrgKind

    data = reset_year(args.year) if args.reuse else None
    scope = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().path
    res: dict = {"baseline_rss_mb": datagen.current_rss_mb(), "fresh_workers": args.fresh_workers}
    if data is not None:
        res["data"] = data
    if args.floor_before:
        res["sql_before"] = run_sql(args.year, scope)
    res["engine"] = engine_run(args.year, trace=False)
    if args.workers > 1:
        if args.fresh_workers:
            delete_year(args.year)  # not timed: the workers' run is a first run too, like the one-process run
        res["engine_workers"] = engine_run_workers(args.year, args.workers)
    res["sql"] = run_sql(args.year, scope)
    res["compare"] = compare(args.year)
    if not args.no_trace:
        res["engine_traced"] = engine_run(args.year, trace=True)
    return res


def report(vendor: str, n: int, gen: dict, res: dict) -> dict:
    e, s = res["engine"], res["sql"]
    ratio = e["seconds"] / s["seconds"] if s["seconds"] else float("inf")
    traced = res.get("engine_traced")
    peak = traced["tracemalloc_peak_mb"] if traced else None
    e_pass, s_pass = e["counts"].get("passed", 0), s["counts"].get("passed", 0)
    c = res["compare"]
    print()
    print(f"== verification of {n:,} teachers on {vendor} (year {gen['year']}) ==")
    print(
        f"  data: {gen['ledger']:,} ledger entries, {gen['last_year_results']:,} results of last year, {gen['exemptions']:,} exemptions; "
        + (
            f"reused, its results of the year deleted in {gen['load_seconds']} s"
            if gen.get("reused")
            else f"generated in {gen['load_seconds']} s"
        )
    )
    print(
        f"  engine run_start(inline): {e['seconds']:.1f} s wall, {e['cpu_seconds']:.1f} s CPU in this process, {e['chunks']} chunks, {e['total']:,} teachers, counts {e['counts']}"
    )
    ph = e.get("phases") or {}
    if ph:
        print(
            f"    of which: planning {ph.get('plan', 0):.1f} s, chunks {ph.get('chunks', 0):.1f} s, "
            f"run_finish {ph.get('finish', 0):.1f} s (delete the results of teachers gone, counts, stored statistics, ANALYZE); "
            + (
                f"backend CPU: planning {ph.get('plan_db_cpu', 0):.1f} s, chunks {ph.get('chunks_db_cpu', 0):.1f} s, "
                f"run_finish {ph.get('finish_db_cpu', 0):.1f} s; "
                if "chunks_db_cpu" in ph
                else ""
            )
            + f"engine without run_finish / SQL: {(e['seconds'] - ph.get('finish', 0)) / s['seconds']:.2f}×"
        )
    print(
        f"  engine memory: peak RSS growth {e['peak_rss_growth_mb']:.0f} MB, ru_maxrss +{e['maxrss_delta_mb']:.0f} MB (process max {e['maxrss_mb']:.0f} MB, baseline RSS {res['baseline_rss_mb']:.0f} MB)",
        end="",
    )
    print(f"; tracemalloc peak {peak:.0f} MB (a second run, under tracemalloc: {traced['seconds']:.1f} s)" if traced else "")
    print(
        f"  SQL only (one INSERT … SELECT): {s['seconds']:.1f} s wall, {s['cpu_seconds']:.1f} s CPU in this process, {s['rows']:,} rows, counts {s['counts']}"
    )
    w = res.get("engine_workers")
    if w:
        print(
            f"  {args_workers(res)} worker processes sharing the chunks"
            + (" (a first run: the year's results deleted first)" if res.get("fresh_workers") else " (a second run: updates)")
            + f": {w['seconds']:.1f} s wall, start-up included "
            f"({e['seconds'] / w['seconds']:.2f}× the one-process speed; largest worker's max RSS {w['worker_maxrss_mb']:.0f} MB); "
            f"{args_workers(res)} workers / SQL: {w['seconds'] / s['seconds']:.2f}×"
        )
    if e.get("db_cpu_seconds") and s.get("db_cpu_seconds"):
        print(
            f"  PostgreSQL backend CPU: engine {e['db_cpu_seconds']:.1f} s, SQL {s['db_cpu_seconds']:.1f} s: "
            f"{e['db_cpu_seconds'] / s['db_cpu_seconds']:.2f}× (steadier than wall time on a shared machine)"
        )
    sb = res.get("sql_before")
    if sb:
        # The floor timed both before and after the engine: on a shared machine it swings by a quarter
        # between runs, so the engine is also given against the mean of the two.
        wall = (sb["seconds"] + s["seconds"]) / 2
        print(
            f"  SQL before the engine: {sb['seconds']:.1f} s wall"
            + (f", backend CPU {sb['db_cpu_seconds']:.1f} s" if sb.get("db_cpu_seconds") else "")
            + f"; engine / mean of the two floors: {e['seconds'] / wall:.2f}× wall"
            + (
                f", {e['db_cpu_seconds'] / ((sb['db_cpu_seconds'] + s['db_cpu_seconds']) / 2):.2f}× backend CPU"
                if sb.get("db_cpu_seconds") and s.get("db_cpu_seconds")
                else ""
            )
        )
    print(f"  engine / SQL: {ratio:.2f}×  (goal ≤ {RATIO_GOAL}×: {'met' if ratio <= RATIO_GOAL else 'MISSED'})")
    mem = max(peak or 0, e["peak_rss_growth_mb"], e["maxrss_delta_mb"])
    print(f"  peak memory {mem:.0f} MB (goal ≤ {MEMORY_GOAL_MB} MB: {'met' if mem <= MEMORY_GOAL_MB else 'MISSED'})")
    print(
        f"  cross-check: passed engine {e_pass:,} = SQL {s_pass:,}; differing teachers {c['mismatched']}, only engine {c['only_engine']}, only SQL {c['only_sql']}"
    )
    print(f"  load average {os.getloadavg()[0]:.1f} (2 cores; other work on the machine slows every figure)")
    correct = e_pass == s_pass and c == {"mismatched": 0, "only_engine": 0, "only_sql": 0}
    if not correct:
        print("  CROSS-CHECK FAILED: the engine and the SQL disagree")
    return {
        "vendor": vendor,
        "teachers": n,
        "engine_s": e["seconds"],
        "engine_phases": e.get("phases"),
        "engine_cpu_s": e["cpu_seconds"],
        "sql_s": s["seconds"],
        "engine_db_cpu_s": e.get("db_cpu_seconds"),
        "sql_db_cpu_s": s.get("db_cpu_seconds"),
        "ratio": ratio,
        "tracemalloc_peak_mb": peak,
        "peak_rss_growth_mb": e["peak_rss_growth_mb"],
        "maxrss_delta_mb": e["maxrss_delta_mb"],
        "correct": correct,
        "met": correct and ratio <= RATIO_GOAL and mem <= MEMORY_GOAL_MB,
    }


def args_workers(res: dict) -> int:
    return res.get("workers", 1)


def bench(
    n: int,
    *,
    year: int = datagen.YEAR,
    trace: bool = True,
    keep: bool = False,
    folder: Path | None = None,
    workers: int = 1,
    reuse: bool = False,
    floor_before: bool = False,
    fresh_workers: bool = False,
) -> dict:
    """The whole benchmark on a new database (or, with `reuse`, on DATABASE_URL's data as it is). This
    process only orchestrates; the data is generated in one child process and measured in another
    (each starts from a small ru_maxrss)."""
    if reuse:
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise SystemExit("--reuse needs DATABASE_URL (postgres://… or sqlite:///path kept by --keep)")
        cleanup = lambda: None  # noqa: E731
    else:
        url, cleanup = datagen.new_database("verification", folder)
    try:
        gen = None if reuse else datagen.generate_in_subprocess(url, n, year)
        res = datagen.run_child(
            __file__,
            url,
            "--year",
            str(year),
            "--workers",
            str(workers),
            *([] if trace else ["--no-trace"]),
            *(["--reuse"] if reuse else []),
            *(["--floor-before"] if floor_before else []),
            *(["--fresh-workers"] if fresh_workers else []),
        )
        res["workers"] = workers
        if gen is None:
            gen = res["data"]
        return report(datagen.vendor_of(url), n, gen, res)
    finally:
        if keep:
            print(f"  database kept: {url}")
        else:
            cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--year", type=int, default=datagen.YEAR)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc re-run")
    parser.add_argument("--keep", action="store_true", help="keep the temp SQLite file")
    parser.add_argument(
        "--workers", type=int, default=1, help="also run the year with the chunks shared by this many processes (e.g. 2)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure again on the data set already in DATABASE_URL (no generation)"
    )
    parser.add_argument(
        "--floor-before", action="store_true", help="also time the one-statement floor before the engine (and give the mean)"
    )
    parser.add_argument(
        "--fresh-workers",
        action="store_true",
        help="with --workers: delete the year's results before the workers' run (a first run, as the one-process run)",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chunk-worker", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.chunk_worker:
        chunk_worker(*args.chunk_worker)
        return
    if args.measure:
        print(json.dumps(measure_child(args), default=str))
        return
    t = time.perf_counter()
    result = bench(
        args.teachers,
        year=args.year,
        trace=not args.no_trace,
        keep=args.keep,
        workers=args.workers,
        reuse=args.reuse,
        floor_before=args.floor_before,
        fresh_workers=args.fresh_workers,
    )
    print(f"  whole benchmark: {time.perf_counter() - t:.0f} s")
    if not result["met"]:
        raise SystemExit(1)  # like the other benchmarks: exit status 1 when a goal is missed (or the cross-check fails)


if __name__ == "__main__":
    main()
