"""Page benchmark: every long list and the statistics page under load, against `/api/v1/me/` as the ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_scale_bench .venv/bin/python bench/bench_pages.py --teachers 200000
    # the same endpoints served by another checkout too (e.g. main before a change), alternated in one run:
    ... bench/bench_pages.py --teachers 200000 --before /tmp/cpd-before --before-database postgres://…/cpd_scale_before

What it does:
  1. generates the data set (bench/datagen.py: N teachers, ~12 ledger entries each, last year's
     results) plus about 2.5 declarations per teacher (half approved, the rest waiting at the school
     or the district) with one SQL statement, then VACUUM ANALYZE;
  2. creates one user per role it drives (city, district, school admin, a teacher) with a session
     cookie and an API token;
  3. serves the code with gunicorn (2 sync workers, DEBUG off, a free port on 127.0.0.1);
  4. drives each endpoint with a bounded load generator (threads + http.client keep-alive, concurrency
     4, a fixed number of seconds), alternating the servers (after, before, after, before …) and
     prints p50/p95/p99, throughput and the share of the ceiling's throughput measured in the same
     round, plus the SQL query count of each page (measured in-process with the test client).

A deep page is the list's 80% point: a keyset cursor for this code, `?page=` for a checkout that
still pages by OFFSET (`--before`). PostgreSQL only (SQLite cannot serve two gunicorn workers
writing sessions at this size in a meaningful way); the database named by DATABASE_URL is dropped
and recreated unless `--reuse`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen

ROOT = Path(__file__).resolve().parent.parent
YEAR = datagen.YEAR  # the ledger's year; results exist for YEAR - 1


# --- data -----------------------------------------------------------------------------------------------------


DECLARATIONS_SQL = """
INSERT INTO hours_declaration (teacher_id, year, category, activity_type, title, organiser, start_date, end_date,
    hours, certificate_number, certificate_in_chinese, certificate_states_hours, state, duplicate_flags, last_reason,
    created_at, updated_at, submitted_at)
SELECT t.id, {year}, CASE WHEN k.k = 1 THEN 'professional' ELSE 'elective' END, 'training',
       '外出培训 ' || k.k, '省教育厅', DATE '{year}-03-01', DATE '{year}-03-02', 6.0,
       'CERT-' || t.id || '-' || k.k, TRUE, TRUE,
       CASE WHEN k.k = 1 THEN 'approved' WHEN t.id % 7 = 0 THEN 'school_approved' WHEN t.id % 5 = 0 THEN 'submitted'
            ELSE 'approved' END,
       '[]', '', TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute' + k.k * INTERVAL '1 second',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute'
FROM accounts_teacher t CROSS JOIN (VALUES (1), (2), (3)) AS k(k)
WHERE k.k < 3 OR t.id % 2 = 0
"""


def load(url: str, teachers: int) -> dict:
    """Migrate, generate, add declarations, analyze (in this process: Django is set up on `url`)."""
    datagen.migrate(url)
    counts = datagen.generate(teachers)
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(DECLARATIONS_SQL.format(year=YEAR))
        counts["declarations"] = cur.rowcount
        cur.execute("VACUUM (ANALYZE) hours_declaration")  # as autovacuum would: index-only counts
    print(f"  {counts['declarations']:,} declarations in {time.perf_counter() - t:.1f} s", flush=True)
    return counts


def personas(city_id: int) -> dict:
    """A user per role driven, each with a session id and an API token (created here, in the database)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User
    from security.mfa import mfa_required
    from security.services import api_token_issue

    district = Organisation.objects.filter(parent_id=city_id, kind=OrgKind.DISTRICT).order_by("code").first()
    school = (
        Organisation.objects.filter(parent=district, kind=OrgKind.SCHOOL)
        .annotate(n=Count("teachers"))
        .order_by("-n", "pk")
        .first()
    )
    teacher = Teacher.objects.filter(school=school, status="active").order_by("pk").first()
    wanted = {
        "city": (RoleKind.CITY_ADMIN, city_id),
        "district": (RoleKind.DISTRICT_ADMIN, district.pk),
        "school": (RoleKind.SCHOOL_ADMIN, school.pk),
        "teacher": (RoleKind.TEACHER, school.pk),
    }
    out = {}
    for name, (kind, org_id) in wanted.items():
        user, _ = User.objects.get_or_create(username=f"bench-pages-{name}", defaults={"name": name})
        role, _ = Role.objects.get_or_create(user=user, kind=kind, organisation_id=org_id)
        if kind == RoleKind.TEACHER and teacher.user_id != user.pk:
            Teacher.objects.filter(pk=teacher.pk).update(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session["active_role_id"] = role.pk
        if mfa_required(user):  # administrators' pages wait for the second factor: this session passed it
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                user=user, name="bench_pages", confirmed=True
            )
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        _token, secret = api_token_issue(user=user, name="bench_pages")  # hashed tokens: a new one per run
        out[name] = {"user": user.pk, "role": role.pk, "session": session.session_key, "token": secret}
    out["school_id"] = school.pk
    out["teacher_id"] = teacher.pk
    return out


def deep_cursors(p: dict) -> dict:
    """Keyset cursors at the 80% point of each long list (what a user paging deep would hold)."""
    from accounts.models import Role
    from cpd.pagination import cursor_of
    from hours import selectors as hs
    from verification import selectors as vs

    city = Role.objects.get(pk=p["city"]["role"])
    district = Role.objects.get(pk=p["district"]["role"])

    def at(qs, share=0.8):
        n = qs.order_by().count()
        row = qs[max(0, int(n * share) - 1)]
        return cursor_of(row, qs), n

    out = {}
    out["ledger"], n = at(hs.ledger_visible_to(city).order_by("year", "created_at", "pk"))
    out["ledger_page"] = max(1, int(n * 0.8) // 50)
    out["declarations"], n = at(hs.declarations_visible_to(city).order_by("-updated_at", "-pk"))
    out["declarations_page"] = max(1, int(n * 0.8) // 50)
    out["results"], n = at(vs.results_visible_to(city).filter(year=YEAR - 1).order_by("year", "school_id", "teacher_id"))
    out["results_page"] = max(1, int(n * 0.8) // 50)
    out["queue"], n = at(hs.review_queue(district, "district"))
    out["queue_page"] = max(1, int(n * 0.8) // 20)
    return out


def endpoints(p: dict, deep: dict, old: bool) -> list[tuple[str, str, str, str]]:
    """(name, persona, kind, path) for this code (`old`: a checkout paging by OFFSET)."""
    y = YEAR - 1

    def deep_q(key: str) -> str:
        return f"page={deep[key + '_page']}" if old else f"cursor={deep[key]}"

    return [
        ("ceiling /api/v1/me/", "teacher", "api", "/api/v1/me/"),
        ("API ledger, city, page 1", "city", "api", "/api/v1/ledger/"),
        ("API ledger, city, deep", "city", "api", f"/api/v1/ledger/?{deep_q('ledger')}"),
        ("API declarations, city, page 1", "city", "api", "/api/v1/declarations/"),
        ("API declarations, city, deep", "city", "api", f"/api/v1/declarations/?{deep_q('declarations')}"),
        ("API declarations, district queue", "district", "api", "/api/v1/declarations/?queue=mine"),
        ("API results, city, page 1", "city", "api", f"/api/v1/results/?year={y}"),
        ("API results, city, deep", "city", "api", f"/api/v1/results/?year={y}&{deep_q('results')}"),
        ("statistics, city", "city", "web", f"/verification/statistics/?year={y}"),
        ("API statistics, city", "city", "api", f"/api/v1/statistics/?year={y}"),
        ("review queue, district, page 1", "district", "web", "/hours/review/"),
        ("review queue, district, deep", "district", "web", f"/hours/review/?{deep_q('queue')}"),
        ("review queue, school", "school", "web", "/hours/review/"),
        ("roster, city, page 1", "city", "web", "/roster/"),
        ("roster, city, search", "city", "web", "/roster/?q=%E7%8E%8B%E4%BC%9F"),
        ("results page, city", "city", "web", f"/verification/results/?year={y}"),
        ("teacher hours page", "teacher", "web", f"/hours/?year={YEAR}"),
        ("home, teacher", "teacher", "web", "/"),
        ("home, school", "school", "web", "/"),
        ("home, district", "district", "web", "/"),
        ("home, city", "city", "web", "/"),
        ("teacher API ledger", "teacher", "api", f"/api/v1/ledger/?year={YEAR}"),
        ("organisations, city", "city", "web", "/orgs/"),
        ("API organisations, city", "city", "api", "/api/v1/organisations/"),
        ("statistics, district", "district", "web", f"/verification/statistics/?year={y}"),
    ]


def query_counts(p: dict, eps: list) -> dict[str, int]:
    """SQL statements per request, in-process with Django's test client (this code only)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, persona, kind, path in eps:
        client = Client()
        headers = _headers(p, persona, kind)
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Cookie"}
        if kind == "web":
            client.cookies["sessionid"] = p[persona]["session"]
        client.get(path, **extra)
        with CaptureQueriesContext(connection) as ctx:
            status = client.get(path, **extra).status_code
        out[name] = len(ctx.captured_queries) if status == 200 else -status
    return out


# --- serving and load ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(code: Path, url: str, port: int, conn_max_age: str | None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "cpd.settings",
        "AXES_ENABLED": "0",
        "CELERY_BROKER_URL": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",  # 4xx answers are part of the load (a 409 for an approval already made)
    }
    if conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = conn_max_age
    else:
        env.pop("DB_CONN_MAX_AGE", None)
    cmd = [sys.executable, "-m", "gunicorn", "cpd.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=code, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"gunicorn did not start on port {port}")


def _headers(p: dict, persona: str, kind: str) -> dict:
    if kind == "api":
        return {"Authorization": f"Token {p[persona]['token']}", "X-CPD-Role": str(p[persona]["role"])}
    return {"Cookie": f"sessionid={p[persona]['session']}"}


def drive(port: int, path: str, headers: dict, seconds: float, concurrency: int) -> dict:
    """`concurrency` threads, each with a keep-alive connection, requesting `path` for `seconds`."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], []
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 599
            mine.append(time.perf_counter() - t)
            if status != 200:
                bad.append(status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)

    def pct(q):
        return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {"n": len(lat), "rps": len(lat) / elapsed, "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=4.0, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="keep the database's data (generated by an earlier run)")
    parser.add_argument("--before", type=Path, help="another checkout to serve alongside (e.g. main before the change)")
    parser.add_argument("--before-database", help="its database (generated with its own migrations unless --reuse)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not datagen.is_postgres(url):
        print("bench_pages: needs DATABASE_URL=postgres://… (skipped)")
        return 0
    started = time.perf_counter()
    if args.before and args.before_database and not args.reuse:
        print(f"before: generating {args.teachers:,} teachers with {args.before}'s migrations", flush=True)
        _load_in(args.before, args.before_database, args.teachers)
    if not args.reuse:
        datagen.recreate_postgres(url)
    if args.reuse:
        datagen.migrate(url)  # the data stays; migrations added since it was generated are applied
    else:
        load(url, args.teachers)
    from accounts.models import Organisation, OrgKind
    from verification.services import statistics_refresh

    city_id = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().pk
    if not args.reuse:
        t = time.perf_counter()
        statistics_refresh(year=YEAR - 1)
        print(f"  stored statistics of {YEAR - 1} in {time.perf_counter() - t:.1f} s", flush=True)
    p = personas(city_id)
    deep = deep_cursors(p)
    eps = endpoints(p, deep, old=False)
    counts = query_counts(p, eps)
    from django.db import connections

    connections.close_all()

    servers = {"after": (ROOT, url, "60")}
    before_p = None
    if args.before:
        before_p = _personas_in(args.before, args.before_database or url, deep)
        servers["before"] = (args.before, args.before_database or url, None)
    procs, ports = {}, {}
    try:
        for label, (code, db, cma) in servers.items():
            ports[label] = free_port()
            procs[label] = serve(code, db, ports[label], cma)
        results: dict[str, dict[str, list[dict]]] = {label: {} for label in servers}
        for _round in range(args.rounds):
            for label in servers:
                who = p if label == "after" else before_p
                for name, persona, kind, path in endpoints(
                    who, who["deep"] if label == "before" else deep, old=label == "before"
                ):
                    drive(ports[label], path, _headers(who, persona, kind), 0.3, 1)  # warm the worker
                    r = drive(ports[label], path, _headers(who, persona, kind), args.seconds, args.concurrency)
                    results[label].setdefault(name, []).append(r)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
    report = {}
    for label, per in results.items():
        ceiling = statistics.median(r["rps"] for r in per["ceiling /api/v1/me/"])
        print(f"\n{label} ({servers[label][0]}), {args.teachers:,} teachers, concurrency {args.concurrency}, 2 workers")
        print(f"{'endpoint':38} {'req/s':>7} {'share':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL':>4} errors")
        for name, runs in per.items():
            row = {
                "rps": statistics.median(r["rps"] for r in runs),
                "p50": min(r["p50"] for r in runs),
                "p50_median": statistics.median(r["p50"] for r in runs),
                "p95": statistics.median(r["p95"] for r in runs),
                "p99": statistics.median(r["p99"] for r in runs),
                "errors": sorted({e for r in runs for e in r["errors"]}),
                "queries": counts.get(name) if label == "after" else None,
            }
            row["share"] = row["rps"] / ceiling if ceiling else 0
            report.setdefault(label, {})[name] = row
            q = "" if row["queries"] is None else str(row["queries"])
            print(
                f"{name:38} {row['rps']:7.1f} {row['share']:6.2f} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} {q:>4} {row['errors'] or ''}"
            )
    print(f"\nbench_pages: {time.perf_counter() - started:.0f} s in all (p50: min over rounds; p95/p99/req/s: median)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    bad = [n for n, r in report["after"].items() if r["errors"]]
    return 1 if bad else 0


def _load_in(code: Path, url: str, teachers: int) -> None:
    """Generate the data set with another checkout's migrations and models (a child process there)."""
    datagen.recreate_postgres(url)
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-load", str(teachers)],
        cwd=code,
        env={**os.environ, "DATABASE_URL": url, "CPD_BENCH_CODE": str(code)},
        check=True,
    )


def _personas_in(code: Path, url: str, deep_after: dict) -> dict:
    """Personas (and the OFFSET page numbers) in the other checkout's database, from a child there."""
    out = (
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child-personas"],
            cwd=code,
            env={**os.environ, "DATABASE_URL": url, "CPD_BENCH_CODE": str(code)},
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    p = json.loads(out)
    p["deep"] = {k: v for k, v in deep_after.items() if k.endswith("_page")}
    return p


def _child(argv: list[str]) -> None:
    """Runs inside another checkout (cwd): its own code on sys.path ahead of this one's."""
    code = os.environ["CPD_BENCH_CODE"]
    sys.path.insert(0, code)
    for name in [m for m in sys.modules if m.startswith(("cpd", "accounts", "hours", "verification", "points"))]:
        del sys.modules[name]
    url = os.environ["DATABASE_URL"]
    if argv[0] == "--child-load":
        datagen.migrate(url)
        datagen.generate(int(argv[1]))
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(DECLARATIONS_SQL.format(year=YEAR))
            cur.execute("VACUUM (ANALYZE) hours_declaration")  # as autovacuum would: index-only counts
        return
    datagen.django_setup(url)
    from accounts.models import Organisation, OrgKind

    city_id = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().pk
    p = personas(city_id)
    print(json.dumps(p))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        _child(sys.argv[1:])
        sys.exit(0)
    sys.exit(main())
