"""Benchmark: the biggest exports of a verified year — "results" and "provincial_xlsx" (one row per
teacher) and "statistics" — built by `exports.export_build`, for N = 50,000 and N = 200,000 teachers.

    .venv/bin/python bench/bench_stats_export.py                       # N = 50,000 and 200,000, temp SQLite
    .venv/bin/python bench/bench_stats_export.py --teachers 200000 --compare 0
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench2 .venv/bin/python bench/bench_stats_export.py

For each N: a fresh database filled by bench/datagen.py and verified by the engine (in a child
process); a city admin (user + Role(kind="city_admin") bound to the generated city); then each
export kind is built in its own fresh process (an ExportJob row as `export_request` makes it, then
`export_build`, timed): wall time and ru_maxrss growth, then the same build again under tracemalloc
for its peak. Goals: ≤ 30 s and ≤ 150 MB per export, memory not growing with N; the exit status
is 1 when one is missed (bench/run.py starts this script with its defaults).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
for p in (BENCH.parent, BENCH):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import datagen  # noqa: E402

KINDS = ["results", "provincial_xlsx", "statistics"]
TIME_GOAL_S = 30
MEMORY_GOAL_MB = 150


def prepare_child(args) -> dict:
    """Verify the year with the engine and make the city admin; returns the role's id."""
    datagen.django_setup()
    from accounts.models import Organisation, OrgKind
    from verification import services

    t = time.perf_counter()
    run = services.run_start(role=None, actor=None, year=args.year, inline=True)
    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    role = datagen.city_admin_role(city.pk)
    return {"role_id": role.pk, "verified": run.total, "counts": run.counts, "verify_seconds": time.perf_counter() - t}


def build(kind: str, year: int, role_id: int, *, trace: bool) -> dict:
    from accounts.models import Role
    from verification import exports
    from verification.models import ExportJob, ExportStatus

    role = Role.objects.select_related("organisation", "user").get(pk=role_id)
    # What export_request creates (it would also build the file at once with an eager Celery).
    job = ExportJob.objects.create(
        kind=kind,
        params={"year": year, "school_id": None, "role_id": role.pk},
        organisation=role.organisation,
        requested_by=role.user,
    )
    out: dict = {}
    cpu = time.process_time()
    with datagen.measure(out, trace=trace):
        job = exports.export_build(job.pk)
    out["cpu_seconds"] = time.process_time() - cpu
    if job.status != ExportStatus.READY:
        raise SystemExit(f"export {kind} failed: {job.error}")
    out["bytes"] = job.file.size
    job.file.delete(save=False)
    return out


def measure_child(args) -> dict:
    datagen.django_setup()
    res = {"baseline_rss_mb": datagen.current_rss_mb()}
    res["plain"] = build(args.kind, args.year, args.role, trace=False)
    if not args.no_trace:
        res["traced"] = build(args.kind, args.year, args.role, trace=True)
    return res


def run_for(n: int, *, year: int, kinds: list[str], trace: bool, keep: bool, folder: Path | None = None) -> list[dict]:
    url, cleanup = datagen.new_database("exports", folder)
    rows = []
    try:
        datagen.generate_in_subprocess(url, n, year)
        prep = datagen.run_child(__file__, url, "--prepare", "--year", str(year))
        print(f"  verified {prep['verified']:,} teachers in {prep['verify_seconds']:.1f} s {prep['counts']}", flush=True)
        for kind in kinds:
            args = ["--kind", kind, "--year", str(year), "--role", str(prep["role_id"])] + ([] if trace else ["--no-trace"])
            res = datagen.run_child(__file__, url, *args)
            p, t = res["plain"], res.get("traced", {})
            row = {
                "vendor": datagen.vendor_of(url),
                "teachers": n,
                "kind": kind,
                "seconds": p["seconds"],
                "cpu_seconds": p["cpu_seconds"],
                "maxrss_delta_mb": p["maxrss_delta_mb"],
                "peak_rss_growth_mb": p["peak_rss_growth_mb"],
                "tracemalloc_peak_mb": t.get("tracemalloc_peak_mb"),
                "traced_seconds": t.get("seconds"),
                "mbytes": p["bytes"] / 2**20,
            }
            rows.append(row)
            peak = f"{row['tracemalloc_peak_mb']:.0f} MB (traced build {row['traced_seconds']:.1f} s)" if t else "-"
            print(
                f"  {kind:<16} {row['seconds']:6.1f} s wall ({row['cpu_seconds']:.1f} s CPU), peak RSS growth {row['peak_rss_growth_mb']:.0f} MB, "
                f"ru_maxrss +{row['maxrss_delta_mb']:.0f} MB, "
                f"tracemalloc peak {peak}, file {row['mbytes']:.1f} MB",
                flush=True,
            )
    finally:
        if keep:
            print(f"  database kept: {url}")
        else:
            cleanup()
    return rows


def goals_met(r: dict) -> bool:
    mem = max(r["peak_rss_growth_mb"], r["maxrss_delta_mb"], r["tracemalloc_peak_mb"] or 0)
    return r["seconds"] <= TIME_GOAL_S and mem <= MEMORY_GOAL_MB


def report(rows: list[dict]) -> bool:
    print()
    print(
        "| database | teachers | export | wall s | peak RSS growth MB | ru_maxrss Δ MB | tracemalloc peak MB | file MB | goals (≤30 s, ≤150 MB) |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        peak = f"{r['tracemalloc_peak_mb']:.0f}" if r["tracemalloc_peak_mb"] is not None else "-"
        print(
            f"| {r['vendor']} | {r['teachers']:,} | {r['kind']} | {r['seconds']:.1f} | {r['peak_rss_growth_mb']:.0f} | {r['maxrss_delta_mb']:.0f} | {peak} "
            f"| {r['mbytes']:.1f} | {'met' if goals_met(r) else 'MISSED'} |"
        )
    print(f"  load average {os.getloadavg()[0]:.1f} (2 cores; other work on the machine slows every figure)")
    return all(goals_met(r) for r in rows)


def bench(
    sizes: list[int],
    *,
    year: int = datagen.YEAR,
    kinds: list[str] = KINDS,
    trace: bool = True,
    keep: bool = False,
    folder: Path | None = None,
) -> bool:
    """Each size on a new database; True when every export met its goals."""
    # Export files go to a throw-away private media root (the children inherit it).
    media = tempfile.mkdtemp(prefix="cpd-export-media-")
    saved = os.environ.get("PRIVATE_MEDIA_ROOT")
    os.environ["PRIVATE_MEDIA_ROOT"] = media
    rows: list[dict] = []
    try:
        for n in sizes:
            print(f"== exports for {n:,} teachers ({datagen.vendor_of(os.environ.get('DATABASE_URL', ''))}) ==", flush=True)
            rows += run_for(n, year=year, kinds=kinds, trace=trace, keep=keep, folder=folder)
    finally:
        shutil.rmtree(media, ignore_errors=True)
        if saved is None:
            os.environ.pop("PRIVATE_MEDIA_ROOT", None)
        else:
            os.environ["PRIVATE_MEDIA_ROOT"] = saved
    return report(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument(
        "--compare", type=int, default=50_000, help="a smaller N run first, to show memory does not grow with N (0: none)"
    )
    parser.add_argument("--year", type=int, default=datagen.YEAR)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc re-builds")
    parser.add_argument("--keep", action="store_true", help="keep the temp SQLite files")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--role", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        import json

        print(json.dumps(prepare_child(args) if args.prepare else measure_child(args), default=str))
        return
    t = time.perf_counter()
    sizes = [n for n in (args.compare, args.teachers) if n]
    met = bench(sizes, year=args.year, kinds=args.kinds.split(","), trace=not args.no_trace, keep=args.keep)
    print(f"  whole benchmark: {time.perf_counter() - t:.0f} s; goals {'met' if met else 'MISSED'}")
    if not met:
        raise SystemExit(1)  # like the other benchmarks: exit status 1 when a goal is missed


if __name__ == "__main__":
    main()
