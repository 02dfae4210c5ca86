"""Attendance registration import at scale: a 50,000-row Excel file for one city training project.

    .venv/bin/python bench/bench_registration_import.py            # a temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench \\
        .venv/bin/python bench/bench_registration_import.py        # drops and recreates cpd_bench
    (or through bench/run.py: `make bench`)

On a fresh database (bench/run.py's helpers), a city of 50,000 teachers (bulk_create; valid ID
numbers from make_id_number, CPD numbers given directly) and a published city-level training
organised by the city, this measures `training.imports` as a page or the API calls it, with tasks
eager (no broker):

  upload + dry run   hours_import_upload: check the file, store it, validate every row
  confirm            hours_import_confirm: validate again against today's data, insert every row

for a 5,000-row and a 50,000-row file (openpyxl write-only): wall and CPU time, peak memory (the
tracemalloc peak of Python allocations, and ru_maxrss, the process's peak resident set) and the
SQL statements (CaptureQueriesContext), to show whether their number depends on the rows.

Goals for 50,000 rows: upload + dry run + confirm ≤ 15 s; ≤ 300 MB; statements independent of N
apart from the INSERT batches (5,000 rows each on PostgreSQL; on SQLite Django allows 999
parameters per statement, about 50 rows) and one progress update per 5,000 rows read.

The city and the files are made, and each measurement runs, in a process of its own (this script
with `prepare` or `measure`): ru_maxrss is a high-water mark that a child inherits from the
process it was started from, and tracemalloc and query capture slow down the code they watch,
so the times come from a run with neither. The exit status is 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(ROOT)]  # bench/ first: its run.py, not the project's

TEACHERS = 50_000
SIZES = (5_000, 50_000)
DISTRICTS = 10
SCHOOLS_PER_DISTRICT = 50
GOAL_SECONDS = 15.0
GOAL_MB = 300.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红志新海波宁婷雪琳晨欣怡子涵宇浩然思"


def maxrss_mb() -> float:
    """The process's peak resident set so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the data ------------------------------------------------------------------------------------------


def build_city(n_teachers: int) -> int:
    """A city, its districts and schools, `n_teachers` teachers (bulk inserted) and a city admin. Returns the role id."""
    from accounts.idnumber import make_id_number
    from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User

    city = Organisation.objects.create(name="基准市", code="BENCH", kind=OrgKind.CITY)
    schools = []
    for d in range(DISTRICTS):
        district = Organisation.objects.create(name=f"基准{d + 1}区", code=f"BENCH-{d:02d}", kind=OrgKind.DISTRICT, parent=city)
        schools += [
            Organisation.objects.create(
                name=f"基准{d + 1}区第{s + 1}学校", code=f"BENCH-{d:02d}-{s:03d}", kind=OrgKind.SCHOOL, parent=district
            )
            for s in range(SCHOOLS_PER_DISTRICT)
        ]
    birth0 = datetime.date(1965, 1, 1)
    teachers = []
    for i in range(n_teachers):
        # A distinct valid ID per teacher: (birth date, sequence) never repeats.
        id_number = make_id_number("440106", birth0 + datetime.timedelta(days=i // 1000), i % 1000)
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)]
        teachers.append(
            Teacher(
                name=name,
                id_number=id_number,
                gender="M" if int(id_number[16]) % 2 else "F",
                school=schools[i * len(schools) // n_teachers],
                stage="primary",
                subject="math",
                title="grade1",
                post_type="teacher",
                first_employment_date=datetime.date(2010, 9, 1),
                cpd_number=f"B{i:09d}",
            )
        )
    Teacher.objects.bulk_create(teachers, batch_size=2000)
    user = User.objects.create(username="bench-city-admin", name="基准市管理员")
    return Role.objects.create(user=user, kind=RoleKind.CITY_ADMIN, organisation=city).pk


def write_file(path: Path, n_rows: int, year: int) -> None:
    """The first `n_rows` teachers of the city, one row each, in the registration template's columns."""
    from openpyxl import Workbook

    from accounts.models import Teacher
    from training.imports import REGISTRATION_HEADERS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("学时登记")
    ws.append(REGISTRATION_HEADERS)
    date = f"{year}-03-02"
    for id_number, name in Teacher.objects.order_by("pk").values_list("id_number", "name")[:n_rows].iterator(chunk_size=5000):
        ws.append([id_number, name, 12, date])
    wb.save(path)


def new_project(role, title: str):
    """A published city-level training of this year (12 hours over two days), organised by the city."""
    from django.utils import timezone

    from training import projects

    year = timezone.localdate().year
    data = {
        "title": title,
        "category": "professional",
        "hours": Decimal("12"),
        "start_date": datetime.date(year, 3, 2),
        "end_date": datetime.date(year, 3, 3),
        "level": "city",
        "kind": "training",
    }
    project = projects.project_save(role=role, actor=role.user, data=data)
    return projects.project_publish(role=role, project=project)


# --- one measurement (in its own process) ---------------------------------------------------------------


def _kind_of(sql: str) -> str:
    head = sql.lstrip()[:80]
    if head.startswith('INSERT INTO "hours_ledgerentry"'):
        return "ledger_inserts"
    if head.startswith('UPDATE "hours_hoursimport" SET "processed_rows"'):
        return "progress_updates"
    return "other"


def measure(rows: int, mode: str, path: Path, role_id: int) -> dict:
    """Upload and confirm `path` once, watched as `mode` says: time, memory or queries."""
    import tracemalloc

    from django.core.files import File
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Role
    from training import imports
    from training.models import HoursImportKind

    role = Role.objects.select_related("organisation", "user").get(pk=role_id)
    project = new_project(role, f"基准测试 {rows:,} 行（{mode}）")
    result: dict = {"rows": rows, "mode": mode, "maxrss_before_mb": maxrss_mb()}
    watched: dict = {}

    def upload():
        with open(path, "rb") as fh:
            return imports.hours_import_upload(
                role=role, actor=role.user, uploaded=File(fh, name=path.name), kind=HoursImportKind.REGISTRATION, project=project
            )

    def confirm(record):
        return imports.hours_import_confirm(role=role, actor=role.user, record=record)

    if mode == "time":
        t0, c0 = time.perf_counter(), time.process_time()
        record = upload()
        t1, c1 = time.perf_counter(), time.process_time()
        record = confirm(record) if record.status == "validated" else record
        t2, c2 = time.perf_counter(), time.process_time()
        result.update(
            upload_s=t1 - t0, confirm_s=t2 - t1, total_s=t2 - t0, upload_cpu_s=c1 - c0, confirm_cpu_s=c2 - c1, total_cpu_s=c2 - c0
        )
    elif mode == "memory":
        tracemalloc.start()
        record = upload()
        result["upload_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.reset_peak()
        record = confirm(record) if record.status == "validated" else record
        result["confirm_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        for step in ("upload", "confirm"):
            with CaptureQueriesContext(connection) as ctx:
                record = upload() if step == "upload" else confirm(record) if record.status == "validated" else record
            kinds = [_kind_of(q["sql"]) for q in ctx.captured_queries]
            watched[step] = {"total": len(kinds), **{k: kinds.count(k) for k in ("other", "ledger_inserts", "progress_updates")}}
        result["queries"] = watched
    result.update(maxrss_mb=maxrss_mb(), status=record.status, imported=record.imported_count, errors=record.errors[:3])
    return result


def _child(*args: str) -> dict:
    """Run this script with `args` in a fresh process (same environment); its last output line is JSON."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=os.environ.copy(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(workdir: Path, n_teachers: int) -> dict:
    """The city and the files to import (in a child process, so that the processes measuring start small)."""
    from django.utils import timezone

    started = time.perf_counter()
    role_id = build_city(n_teachers)
    built = time.perf_counter() - started
    files = {}
    for n in SIZES:
        files[n] = workdir / f"registration-{n}.xlsx"
        write_file(files[n], n, timezone.localdate().year)
    return {
        "role": role_id,
        "files": {n: str(f) for n, f in files.items()},
        "build_s": built,
        "write_s": time.perf_counter() - started - built,
    }


# --- the benchmark ----------------------------------------------------------------------------------------------


def run(workdir: Path, n_teachers: int = TEACHERS) -> bool:
    prepared = _child("prepare", "--dir", str(workdir), "--teachers", str(n_teachers))
    print(
        f"  {n_teachers:,} teachers in {DISTRICTS * SCHOOLS_PER_DISTRICT} schools (bulk_create) in {prepared['build_s']:.1f} s",
        flush=True,
    )
    for n in SIZES:
        path = Path(prepared["files"][str(n)])
        print(f"  wrote {path.name} ({path.stat().st_size / 2**20:.1f} MB, openpyxl write-only)", flush=True)
    results: dict[int, dict] = {}
    for n in SIZES:
        results[n] = {}
        for mode in ("time", "memory", "queries"):
            r = _child(
                "measure", "--rows", str(n), "--mode", mode, "--file", prepared["files"][str(n)], "--role", str(prepared["role"])
            )
            if r["status"] != "imported" or r["imported"] != n:
                raise SystemExit(f"{n} rows ({mode}): status {r['status']}, {r['imported']} imported, errors {r['errors']}")
            results[n][mode] = r
            print(f"  measured {n:,} rows ({mode})", flush=True)
    return report(results)


def report(results: dict[int, dict]) -> bool:
    small, big = SIZES
    print(
        f"\n{'rows':>8} {'upload+dry run':>15} {'confirm':>9} {'total':>8} {'CPU':>8} {'tracemalloc peak':>17} {'ru_maxrss':>10} {'SQL upload':>11} {'SQL confirm':>12}"
    )
    for n in SIZES:
        t, m, q = results[n]["time"], results[n]["memory"], results[n]["queries"]["queries"]
        peak = max(m["upload_peak_mb"], m["confirm_peak_mb"])
        print(
            f"{n:>8,} {t['upload_s']:>13.2f} s {t['confirm_s']:>7.2f} s {t['total_s']:>6.2f} s {t['total_cpu_s']:>6.2f} s {peak:>14.1f} MB "
            f"{t['maxrss_mb']:>7.0f} MB {q['upload']['total']:>11} {q['confirm']['total']:>12}"
        )
    print("\nSQL statements by kind (other / ledger INSERT batches / progress updates):")
    for n in SIZES:
        q = results[n]["queries"]["queries"]
        parts = [
            f"{step} {q[step]['other']} / {q[step]['ledger_inserts']} / {q[step]['progress_updates']}"
            for step in ("upload", "confirm")
        ]
        print(f"{n:>8,}  " + ";  ".join(parts))

    t = results[big]["time"]
    peak = max(results[big]["memory"]["upload_peak_mb"], results[big]["memory"]["confirm_peak_mb"])
    rss = t["maxrss_mb"]
    fixed = {n: {s: results[n]["queries"]["queries"][s]["other"] for s in ("upload", "confirm")} for n in SIZES}
    goals = [
        (
            f"{big:,} rows: upload + dry run + confirm ≤ {GOAL_SECONDS:.0f} s",
            f"{t['total_s']:.1f} s wall ({t['upload_s']:.1f} + {t['confirm_s']:.1f}), {t['total_cpu_s']:.1f} s CPU",
            t["total_s"] <= GOAL_SECONDS,
        ),
        (
            f"{big:,} rows: memory ≤ {GOAL_MB:.0f} MB",
            f"process peak {rss:.0f} MB, Python allocations peak {peak:.0f} MB",
            rss <= GOAL_MB,
        ),
        (
            "SQL statements other than INSERT batches and progress updates independent of N",
            f"{fixed[small]['upload']} + {fixed[small]['confirm']} for {small:,} rows, {fixed[big]['upload']} + {fixed[big]['confirm']} for {big:,}",
            fixed[small] == fixed[big],
        ),
    ]
    print("\ngoals:")
    for goal, figure, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {goal}: {figure}")
    print(
        f"  (ru_maxrss of a measuring process before the import, Django loaded: {t['maxrss_before_mb']:.0f} MB; load average {os.getloadavg()[0]:.1f})"
    )
    return all(met for _goal, _figure, met in goals)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--teachers", type=int, default=TEACHERS, help=f"teachers in the city (default {TEACHERS:,}; at least {max(SIZES):,})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file, the Excel files, uploads)")
    args = parser.parse_args(argv)
    import run as bench_run  # bench/run.py: the environment and a fresh database

    workdir = Path(tempfile.mkdtemp(prefix="cpd-bench-registration-"))
    url = bench_run.prepare_environment(workdir)
    print(f"database: {bench_run.shown_url(url)}", flush=True)
    try:
        bench_run.fresh_database(url)
        met = run(workdir, args.teachers)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if met else 1


def _child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["prepare", "measure"])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--mode", choices=["time", "memory", "queries"])
    parser.add_argument("--file", type=Path)
    parser.add_argument("--role", type=int)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--teachers", type=int)
    args = parser.parse_args(argv)
    import django

    django.setup()
    if args.command == "prepare":
        result = prepare(args.dir, args.teachers)
    else:
        result = measure(args.rows, args.mode, args.file, args.role)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("prepare", "measure"):
        _child_main(sys.argv[1:])
    else:
        sys.exit(main())
