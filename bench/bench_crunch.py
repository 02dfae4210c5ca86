"""Crunch benchmark: the year-end rush on the write path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_scale_crunch .venv/bin/python bench/bench_crunch.py --teachers 20000
    … --reuse --threads 1,4 --rounds 3 --seconds 60      # sync against threaded workers, alternated
    … --reuse --threads 1,4 --rounds 2 --before /tmp/cpd-before   # and another checkout, alternated with this one
    … --reuse --seconds 0 --profile 10 [--cprofile] [--sql]   # in-process: statements and time per request

Teachers create and submit declarations with a 200 KB PDF (API, multipart) while the schools of one
district approve what waits for them (singly and in bulk) and the district approves what the
schools passed (singly and in bulk), all at once against gunicorn (2 workers, DEBUG off; with
`--threads N` gthread workers of N threads, as production runs, `--threads 1` sync workers):
2 teacher threads, 1 school thread (round-robin over up to 20 school admins), 1 district thread.
Before each crunch, `/api/v1/me/` alone at concurrency 4 gives the ceiling, and create+submit alone at
the same concurrency gives the write path's own rate (the share of the ceiling the issue asks for: both
at concurrency 4 on an otherwise idle server), alternated in slices of `--alone`/4 seconds each, so that
both see the same neighbours on a shared machine; in the crunch itself create+submit
has 2 of the 4 client threads and shares the server with the reviewers, so its share there is lower.
With `--before <checkout>` that checkout is served on the same database too (it must run on this
schema), alternated with this code in every round and server shape.

Prints, per crunch, the rates and p50/p95 of each kind of request, each p95 over the ceiling's p50
(on a shared machine, comparable between runs of one server shape; across shapes the ceiling itself
moves, threads taking a bigger share of a contended CPU), the create+submit rate as a share of the ceiling (goal
≥ 1/3) and, over the crunches, the min and median of each figure per server shape (goal: approval p95
≤ 250 ms). At the end it checks that every declaration approved during the run has exactly one ledger
entry and that no other has any; the exit status is 1 if not, or if any request answered 5xx. The
data set is bench/datagen.py's plus about 2.5 declarations per teacher (so that the duplicate check
on submit searches a realistic table). PostgreSQL only; without --reuse the database named by
DATABASE_URL is dropped and recreated.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages
import datagen

CRUNCH_YEAR = 2026  # an open year: declarations accepted, reviews open


def setup_people(teachers_per_school: int) -> dict:
    """Teacher users (token + role) for up to 20 schools of the first district, their school admins,
    the district admin."""
    from django.db import transaction
    from django.db.models import Count

    from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User
    from security.services import api_token_issue

    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    district = Organisation.objects.filter(parent=city, kind=OrgKind.DISTRICT).order_by("code").first()
    schools = list(
        Organisation.objects.filter(parent=district, kind=OrgKind.SCHOOL).annotate(n=Count("teachers")).order_by("-n", "pk")[:20]
    )

    def person(username: str, kind: str, org_id: int) -> dict:
        user, _ = User.objects.get_or_create(username=username, defaults={"name": username})
        role, _ = Role.objects.get_or_create(user=user, kind=kind, organisation_id=org_id)
        _token, secret = api_token_issue(user=user, name="bench_crunch")  # hashed tokens: a new one per run
        return {"user": user.pk, "role": role.pk, "token": secret}

    teachers, school_admins = [], []
    with transaction.atomic():  # one commit, not one per statement: 2,000 people took minutes on a busy machine
        for school in schools:
            school_admins.append(person(f"crunch-school-{school.pk}", RoleKind.SCHOOL_ADMIN, school.pk))
            for t in Teacher.objects.filter(school=school, status="active").order_by("pk")[:teachers_per_school]:
                p = person(f"crunch-teacher-{t.pk}", RoleKind.TEACHER, school.pk)
                if t.user_id != p["user"]:
                    Teacher.objects.filter(pk=t.pk).update(user_id=p["user"])
                teachers.append(p)
        district_admin = person(f"crunch-district-{district.pk}", RoleKind.DISTRICT_ADMIN, district.pk)
    return {"teachers": teachers, "schools": school_admins, "district": district_admin}


def headers(p: dict) -> dict:
    return {"Authorization": f"Token {p['token']}", "X-CPD-Role": str(p["role"])}


PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


_PDF_POOL: list[bytes] = []
_PDF_POOL_LOCK = threading.Lock()


def certificate_pdf(size: int = 200 * 1024) -> bytes:
    """A PDF-headed file of `size` random bytes (like a scan's image stream), a different file each call.

    Random bytes now and then spell a name the evidence check refuses (`/JS`, `/AA` followed by a
    delimiter): such draws are thrown away, so that every upload is one the platform accepts. The
    random bodies come from a small pool drawn and checked once (the client's own CPU is not part of
    what is measured: drawing and checking 200 KB per request was ~2 ms of the client's Python, on the
    machine the server runs on); each call ends its body with a unique comment line (hex digits: no
    name, no markup), so no two uploads have the same content hash."""
    from hours.evidence_scan import active_content

    with _PDF_POOL_LOCK:
        while len(_PDF_POOL) < 16:
            pdf = PDF_HEAD + os.urandom(size)
            if active_content(pdf, "application/pdf") is None:
                _PDF_POOL.append(pdf)
        base = random.choice(_PDF_POOL)
    return base + b"\n%" + uuid.uuid4().hex.encode() + b"\n"


def multipart(fields: dict, files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content, ctype in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.items: dict[str, int] = {}
        self.statuses: dict[str, dict[int, int]] = {}

    def add(self, kind: str, seconds: float, status: int, items: int = 1):
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            self.items[kind] = self.items.get(kind, 0) + (items if status < 300 else 0)
            self.statuses.setdefault(kind, {}).setdefault(status, 0)
            self.statuses[kind][status] += 1


def request(conn, method, path, hdrs, body=None):
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, time.perf_counter() - t


def teacher_loop(port, people, stop, rec, seed, kind="create+submit"):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    n = 0
    while time.time() < stop:
        p = rnd.choice(people["teachers"])
        n += 1
        cert = f"CRUNCH-{seed}-{n}-{uuid.uuid4().hex}"  # unique across rounds and runs: no duplicate flags
        pdf = certificate_pdf()
        body, ctype = multipart(
            {
                "year": CRUNCH_YEAR,
                "category": "professional",
                "activity_type": "authority_training",
                "title": f"年末集中培训 {n}",
                "organiser": "区教师发展中心",
                "start_date": f"{CRUNCH_YEAR}-03-02",
                "end_date": f"{CRUNCH_YEAR}-03-03",
                "hours": "12",
                "certificate_number": cert,
                "certificate_in_chinese": "true",
                "certificate_states_hours": "true",
                "submit": "true",
            },
            [("certificate", "certificate.pdf", pdf, "application/pdf")],
        )
        status, _data, secs = request(conn, "POST", "/api/v1/declarations/", {**headers(p), "Content-Type": ctype}, body)
        rec.add(kind, secs, status)
    conn.close()


def reviewer_loop(port, reviewers, stop, rec, level):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    i = 0
    while time.time() < stop:
        p = reviewers[i % len(reviewers)]
        i += 1
        status, data, secs = request(conn, "GET", f"/api/v1/declarations/?queue=mine&year={CRUNCH_YEAR}&page_size=60", headers(p))
        rec.add(f"{level} queue", secs, status)
        ids = [d["id"] for d in json.loads(data)["results"]] if status == 200 else []
        if not ids:
            time.sleep(0.2)
            continue
        status, _data, secs = request(conn, "POST", f"/api/v1/declarations/{ids[0]}/approve/", headers(p))
        rec.add(f"{level} approve (single)", secs, status)
        if len(ids) > 1:
            body = json.dumps({"ids": ids[1:]}).encode()
            status, data, secs = request(
                conn,
                "POST",
                "/api/v1/declarations/bulk-approve/",
                {**headers(p), "Content-Type": "application/json"},
                body,
            )
            approved = len(json.loads(data)["approved"]) if status == 200 else 0
            rec.add(f"{level} approve (bulk)", secs, status, items=approved)
    conn.close()


def check_ledger(first_new_id: int) -> dict:
    """Every declaration approved in the crunch has exactly one ledger entry; no other new one has any."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """SELECT d.state, COUNT(*), SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END),
                      SUM(CASE WHEN n = 0 THEN 1 ELSE 0 END)
               FROM hours_declaration d
               CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM hours_ledgerentry l WHERE l.declaration_id = d.id) c
               WHERE d.id >= %s GROUP BY d.state""",
            [first_new_id],
        )
        rows = {
            state: {"declarations": n, "one": one, "more": more, "none": none} for state, n, one, more, none in cur.fetchall()
        }
    approved = rows.get("approved", {"declarations": 0, "one": 0, "more": 0, "none": 0})
    others_with_entries = sum(r["one"] + r["more"] for s, r in rows.items() if s != "approved")
    ok = approved["one"] == approved["declarations"] and others_with_entries == 0
    return {"by_state": rows, "ok": ok}


def _statement_kinds(queries: list[dict]) -> str:
    """'SELECT accounts_role ×2, INSERT hours_declaration, …': each statement by verb and first table."""
    import re
    from collections import Counter

    kinds: Counter[str] = Counter()
    for q in queries:
        sql = q["sql"]
        verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
        m = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
        kinds[f"{verb} {m.group(1) if m else ''}".strip()] += 1
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in kinds.most_common())


def profile_in_process(people: dict, rounds: int, cprofile: bool, show_sql: bool = False) -> None:
    """One create+submit (200 KB PDF) and one single approval at each level, through Django's test
    client in this process (the whole middleware stack, no HTTP server): statements and wall time,
    median over `rounds`; with `cprofile`, the functions that take the most cumulative time."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from hours.models import Declaration, DeclarationState

    def client(p: dict) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Token {p['token']}", HTTP_X_CPD_ROLE=str(p["role"]))

    teacher = people["teachers"][0]
    results: dict[str, list[tuple[float, int, str, float]]] = {}
    last_sql: dict[str, list[dict]] = {}
    profiler = cProfile.Profile() if cprofile else None

    backend = _backend_stat_path(connection)
    cpu: dict[str, list[tuple[float, float]]] = {}  # kind -> [(this process's CPU s, the PostgreSQL backend's CPU s)]

    def timed(kind: str, c: Client, path: str, method: str = "post", **kwargs) -> int:
        with CaptureQueriesContext(connection) as ctx:
            if profiler and n >= 0:
                profiler.enable()
            backend_before = _cpu_seconds(backend)
            cpu_before = time.process_time()
            t = time.perf_counter()
            status = getattr(c, method)(path, **kwargs).status_code
            secs = time.perf_counter() - t
            cpu_after = time.process_time()
            backend_after = _cpu_seconds(backend)
            if profiler and n >= 0:
                profiler.disable()
        if n >= 0:  # round -1 warms up (imports the URLconf, fills caches) and is not recorded
            db = sum(float(q["time"]) for q in ctx.captured_queries)
            results.setdefault(kind, []).append((secs, len(ctx.captured_queries), _statement_kinds(ctx.captured_queries), db))
            cpu.setdefault(kind, []).append((cpu_after - cpu_before, backend_after - backend_before))
            last_sql[kind] = ctx.captured_queries
        return status

    from accounts.models import Role

    teacher_school = Role.objects.get(pk=teacher["role"]).organisation_id
    school_of_teacher = next(p for p in people["schools"] if Role.objects.get(pk=p["role"]).organisation_id == teacher_school)
    for n in range(-1, rounds):
        status = timed("ceiling: GET /api/v1/me/", client(teacher), "/api/v1/me/", method="get")
        assert status == 200, status
        fields = {
            "year": CRUNCH_YEAR,
            "category": "professional",
            "activity_type": "authority_training",
            "title": f"剖析 {n}",
            "organiser": "区教师发展中心",
            "start_date": f"{CRUNCH_YEAR}-03-02",
            "end_date": f"{CRUNCH_YEAR}-03-03",
            "hours": "12",
            "certificate_number": f"PROFILE-{n}-{uuid.uuid4().hex}",  # unique across runs on one database
            "certificate_in_chinese": "true",
            "certificate_states_hours": "true",
            "submit": "true",
        }
        body, ctype = multipart(fields, [("certificate", "certificate.pdf", certificate_pdf(), "application/pdf")])
        status = timed("create+submit", client(teacher), "/api/v1/declarations/", data=body, content_type=ctype)
        assert status == 201, status
        decl = Declaration.objects.filter(certificate_number=fields["certificate_number"]).get()
        school = school_of_teacher
        status = timed("school approve (single)", client(school), f"/api/v1/declarations/{decl.pk}/approve/")
        assert status == 200, status
        status = timed("district approve (single)", client(people["district"]), f"/api/v1/declarations/{decl.pk}/approve/")
        assert status == 200, status
        assert Declaration.objects.get(pk=decl.pk).state == DeclarationState.APPROVED
    print(f"\nin-process (Django test client, {rounds} rounds; load average {os.getloadavg()[0]:.1f}):")
    print(
        f"{'request':28} {'min ms':>8} {'median ms':>9} {'of which SQL ms':>15} {'statements':>10} "
        f"{'CPU ms: Python':>14} {'PostgreSQL':>10} {'× ceiling':>9}"
    )
    ceiling_cpu = None
    for kind, rows in results.items():
        times = [r[0] for r in rows]
        db = statistics.median(r[3] for r in rows)
        # CPU time hardly depends on the neighbours, wall time does: the figure to compare across runs on a busy
        # machine. The backend's is read from /proc in clock ticks (10 ms): its mean over the rounds.
        py_cpu = statistics.median(c[0] for c in cpu[kind])
        pg_cpu = statistics.fmean(c[1] for c in cpu[kind]) if backend else float("nan")
        total_cpu = py_cpu + (pg_cpu if backend else 0)
        ceiling_cpu = ceiling_cpu or total_cpu
        print(
            f"{kind:28} {1000 * min(times):8.1f} {1000 * statistics.median(times):9.1f} {1000 * db:15.1f} {rows[-1][1]:10} "
            f"{1000 * py_cpu:14.1f} {1000 * pg_cpu:10.1f} {total_cpu / ceiling_cpu:9.2f}"
        )
        print(f"    {rows[-1][2]}")
        if show_sql:
            for q in last_sql[kind]:
                print(f"      {1000 * float(q['time']):6.2f} ms  {q['sql'][:300]}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"/(accounts|cpd|hours|security|verification)/", 30)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


def _backend_stat_path(connection) -> str | None:
    """/proc/<pid>/stat of this connection's PostgreSQL backend, when the server runs on this machine."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    path = f"/proc/{pid}/stat"
    try:
        with open(path) as f:
            return path if "postgres" in f.read() else None
    except OSError:
        return None


def _cpu_seconds(stat_path: str | None) -> float:
    if stat_path is None:
        return 0.0
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def summarise(rec: Recorder, seconds: float) -> dict:
    out = {}
    for kind, times in sorted(rec.times.items()):
        lat = sorted(times)
        out[kind] = {
            "requests": len(lat),
            "items": rec.items.get(kind, 0),
            "rate": rec.items.get(kind, 0) / seconds,
            "p50": 1000 * statistics.median(lat),
            "p95": 1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))],
            "statuses": rec.statuses[kind],
        }
    return out


SLICES = 4  # the ceiling and create+submit alone, alternated in this many slices each


def crunch_once(port: int, people: dict, seconds: float, alone: float = 8) -> dict:
    """The ceiling (`/api/v1/me/` alone, concurrency 4) and create+submit alone at the same concurrency, each
    for `alone` seconds in `SLICES` slices alternated (me, create, me, create …: on a shared machine the
    neighbours' load moves within seconds, and both should see the same); then the crunch for `seconds`
    (2 teachers creating and submitting while a school and the district review: there the create+submit
    rate is what 2 of the 4 client threads get beside the reviewers)."""
    p = people["teachers"][0]
    bench_pages.drive(port, "/api/v1/me/", headers(p), 0.5, 1)
    load_before = os.getloadavg()[0]
    slices, rec, alone_seconds = [], Recorder(), 0.0
    for i in range(SLICES):
        slices.append(bench_pages.drive(port, "/api/v1/me/", headers(p), max(alone, 4) / SLICES, 4))
        if alone > 0:
            stop = time.time() + alone / SLICES
            threads = [
                threading.Thread(target=teacher_loop, args=(port, people, stop, rec, 10 + 4 * i + j, "create+submit alone"))
                for j in range(4)
            ]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            alone_seconds += time.perf_counter() - t0
    n = sum(c["n"] for c in slices)
    ceiling = {
        "n": n,
        "rps": n / sum(c["n"] / c["rps"] for c in slices),
        "p50": statistics.median(c["p50"] for c in slices),  # the slices' median p50
        "errors": [e for c in slices for e in c["errors"]],
    }
    alone_summary = summarise(rec, alone_seconds) if alone > 0 else {}
    rec = Recorder()
    stop = time.time() + seconds
    threads = [
        threading.Thread(target=teacher_loop, args=(port, people, stop, rec, 1)),
        threading.Thread(target=teacher_loop, args=(port, people, stop, rec, 2)),
        threading.Thread(target=reviewer_loop, args=(port, people["schools"], stop, rec, "school")),
        threading.Thread(target=reviewer_loop, args=(port, [people["district"]], stop, rec, "district")),
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {
        "ceiling": ceiling,
        "summary": {**alone_summary, **summarise(rec, elapsed)},
        "elapsed": elapsed,
        "load": (load_before, os.getloadavg()[0]),
    }


APPROVALS = ("school approve (single)", "district approve (single)", "school approve (bulk)", "district approve (bulk)")
GOAL_APPROVAL_P95_MS = 250
GOAL_CREATE_SHARE = 1 / 3


def print_run(label: str, run: dict, flush: bool = False) -> None:
    ceiling, summary = run["ceiling"], run["summary"]
    print(
        f"\n{label}: crunch {run['elapsed']:.0f} s; load average {run['load'][0]:.1f} → {run['load'][1]:.1f}; "
        f"ceiling /api/v1/me/ alone: {ceiling['rps']:.1f} req/s, p50 {ceiling['p50']:.0f} ms"
    )
    print(f"{'request':28} {'requests':>8} {'items/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p95/ceiling p50':>16}  statuses")
    for kind, s in summary.items():
        print(
            f"{kind:28} {s['requests']:8} {s['rate']:8.1f} {s['p50']:8.0f} {s['p95']:8.0f} "
            f"{s['p95'] / ceiling['p50']:16.1f}  {s['statuses']}"
        )
    create = summary.get("create+submit", {"rate": 0})
    alone = summary.get("create+submit alone")
    print(
        f"create+submit rate / ceiling req/s: in the crunch (2 threads) {create['rate'] / ceiling['rps']:.2f}"
        + (f", alone at concurrency 4 {alone['rate'] / ceiling['rps']:.2f}" if alone else "")
        + f" (goal ≥ {GOAL_CREATE_SHARE:.2f})",
        flush=flush,
    )


def print_comparison(runs: dict[str, list[dict]]) -> None:
    """Per server shape, over its runs: min and median of each figure the issue asks for."""

    def mm(values: list[float], fmt: str) -> str:
        return f"{format(min(values), fmt)} / {format(statistics.median(values), fmt)}" if values else "-"

    print(f"\nsummary, min / median over runs (goal: approval p95 ≤ {GOAL_APPROVAL_P95_MS} ms, create share ≥ 0.33)")
    width = max([22, *(len(label) for label in runs)])
    print(f"{'figure':40} " + " ".join(f"{label:>{width}}" for label in runs))
    rows: list[tuple[str, callable, str]] = [
        ("runs", lambda r: 1.0, ".0f"),
        ("load average (start of crunch)", lambda r: r["load"][0], ".1f"),
        ("ceiling req/s", lambda r: r["ceiling"]["rps"], ".1f"),
        ("ceiling p50 ms", lambda r: r["ceiling"]["p50"], ".0f"),
        ("create+submit /s", lambda r: r["summary"].get("create+submit", {}).get("rate"), ".1f"),
        (
            "create+submit share of ceiling",
            lambda r: r["summary"].get("create+submit", {}).get("rate", 0) / r["ceiling"]["rps"],
            ".2f",
        ),
        ("create+submit p95 ms", lambda r: r["summary"].get("create+submit", {}).get("p95"), ".0f"),
        ("create+submit alone (c=4) /s", lambda r: r["summary"].get("create+submit alone", {}).get("rate"), ".1f"),
        (
            "create+submit alone share of ceiling",
            lambda r: (
                r["summary"]["create+submit alone"]["rate"] / r["ceiling"]["rps"]
                if "create+submit alone" in r["summary"]
                else None
            ),
            ".2f",
        ),
        ("create+submit alone p95 ms", lambda r: r["summary"].get("create+submit alone", {}).get("p95"), ".0f"),
    ]
    for kind in APPROVALS:
        rows.append((f"{kind} p95 ms", lambda r, k=kind: r["summary"].get(k, {}).get("p95"), ".0f"))
        rows.append(
            (
                f"{kind} p95 / ceiling p50",
                lambda r, k=kind: r["summary"][k]["p95"] / r["ceiling"]["p50"] if k in r["summary"] else None,
                ".1f",
            )
        )
    for kind in ("school approve (bulk)", "district approve (bulk)"):
        rows.append((f"{kind} items/s", lambda r, k=kind: r["summary"].get(k, {}).get("rate"), ".1f"))
    for name, get, fmt in rows:
        cells = []
        for rs in runs.values():
            if name == "runs":
                cells.append(f"{len(rs):>{width}}")
                continue
            values = [v for v in (get(r) for r in rs) if v is not None]
            cells.append(f"{mm(values, fmt):>{width}}")
        print(f"{name:40} " + " ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=20_000)
    parser.add_argument("--filers-per-school", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60, help="length of each crunch")
    parser.add_argument("--reuse", action="store_true", help="keep the database's data (generated by an earlier run)")
    parser.add_argument(
        "--threads",
        default="1,4",
        help="gunicorn threads per worker, comma-separated to compare server shapes in one session "
        "(1 = sync workers; e.g. 1,4); each shape gets --rounds crunches, alternated",
    )
    parser.add_argument("--rounds", type=int, default=2, help="crunches per server shape (alternated)")
    parser.add_argument(
        "--alone",
        type=float,
        default=8,
        metavar="SECONDS",
        help="before each crunch, the ceiling and create+submit alone at the ceiling's concurrency (4), each for "
        "this long, alternated in 4 slices (0: the ceiling alone, 4 s)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout (e.g. main before a change) served on the same database, alternated with this one "
        "in each round and server shape (its code must run on this database's schema)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="before the crunch, time N create+submit and single approvals in this process (statements, ms)",
    )
    parser.add_argument("--cprofile", action="store_true", help="with --profile: print cProfile's top functions")
    parser.add_argument("--sql", action="store_true", help="with --profile: print each statement of the last round")
    args = parser.parse_args(argv)
    shapes = [int(t) for t in str(args.threads).split(",")]
    if any(t < 1 for t in shapes):
        parser.error("--threads: each value must be 1 or more")
    url = os.environ.get("DATABASE_URL", "")
    if not datagen.is_postgres(url):
        print("bench_crunch: needs DATABASE_URL=postgres://… (skipped)")
        return 0
    started = time.perf_counter()
    if not args.reuse:
        datagen.recreate_postgres(url)
    datagen.django_setup(url)
    if args.reuse:
        datagen.migrate(url)
    else:
        bench_pages.load(url, args.teachers)
    people = setup_people(args.filers_per_school)
    from django.db import connection, connections

    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM hours_declaration")
        first_new_id = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM hours_declaration")
        existing = cur.fetchone()[0]
    if args.profile:
        profile_in_process(people, args.profile, args.cprofile, args.sql)
    connections.close_all()
    print(
        f"  {len(people['teachers']):,} teachers filing in {len(people['schools'])} schools, one district reviewing; "
        f"{existing:,} declarations already in the table",
        flush=True,
    )

    codes = [("", datagen.ROOT)] + ([("before, ", args.before.resolve())] if args.before else [])

    def label(code: str, threads: int) -> str:
        return code + ("2 sync workers" if threads == 1 else f"2 workers × {threads} threads")

    runs: dict[str, list[dict]] = {label(c, t): [] for t in shapes for c, _path in codes}
    errors = []
    if args.seconds > 0:
        for round_ in range(args.rounds):
            for threads in shapes:
                for code, path in codes if round_ % 2 == 0 else codes[::-1]:  # alternated: neither always goes first
                    port = bench_pages.free_port()
                    server = bench_pages.serve(path, url, port, "60", threads=threads)
                    try:
                        run = crunch_once(port, people, args.seconds, args.alone)
                    finally:
                        server.terminate()
                        server.wait(timeout=30)
                    runs[label(code, threads)].append(run)
                    print_run(f"round {round_ + 1}, {code}gunicorn {label('', threads)}", run, flush=True)
                    errors += [k for k, s in run["summary"].items() if any(c >= 500 for c in s["statuses"])]
        print_comparison(runs)
    check = check_ledger(first_new_id)
    print(f"\nledger check (one entry per approval, none otherwise): {'ok' if check['ok'] else 'FAILED'} {check['by_state']}")
    print(f"load average {os.getloadavg()[0]:.1f}; whole benchmark {time.perf_counter() - started:.0f} s")
    if errors:
        print(f"5xx answers: {sorted(set(errors))}")
    return 0 if check["ok"] and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
