"""Benchmark data: one city with N teachers, about 12 hours-bank entries each for one year, and last
year's verification results (some with a carry-out, so that carry-in is exercised).

    .venv/bin/python bench/datagen.py --teachers 200000            # into a fresh temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench2 .venv/bin/python bench/datagen.py

Also the shared plumbing of the verification benchmarks: `new_database()` (a temp SQLite file, or
drop and recreate the PostgreSQL database named by DATABASE_URL), `generate_in_subprocess()` and
`run_child()` (migrate + generate, and measure, each in a child process), and `measure()`.

What is generated (deterministic for a given N and seed):
  - a city, 4 districts and a city-direct unit, ~N/100 schools spread over them;
  - N teachers (valid resident ID numbers from `make_id_number`, distinct CPD numbers), 1% retired;
  - for year Y (default 2025): 3–4 public topics out of 12 (15% of teachers repeat a topic, only the
    largest entry counts), 4–6 professional and 2–3 elective entries, all hours multiples of 0.5;
    1% of teachers have no entry at all; 5% have a revoked entry and its revoking correction;
  - last year's (Y-1) result for 95% of teachers, 30% of them with a carry-out, and for each such
    teacher the carry-over entry in Y that finalisation writes (which the engine must skip);
  - an exemption for Y for 0.3% of teachers.

Rows are written with PostgreSQL's COPY (psycopg2 copy_expert) or, on SQLite, executemany of plain
INSERTs inside one transaction; `--method bulk_create` uses Django's bulk_create instead (slower,
kept to compare).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/cpd_bench2"
YEAR = 2025
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红志新海波宁婷雪琳晨欣怡子涵宇浩然思"
PUBLIC_TOPICS = [
    "师德师风建设专题",
    "习近平新时代中国特色社会主义思想专题",
    "心理健康教育专题",
    "人工智能与教育数字化专题",
    "法治教育专题",
    "安全教育与应急处置专题",
    "双减政策解读专题",
    "劳动教育专题",
    "生态文明建设专题",
    "国家安全教育专题",
    "家校社协同育人专题",
    "中华优秀传统文化专题",
]
PROF_TITLES = [
    "学科课程标准研修",
    "单元整体教学设计",
    "课堂观察与评课",
    "区教研活动",
    "校本研修",
    "作业设计与评价",
    "新教材培训",
    "跨学科主题学习",
]
ELECTIVE_TITLES = ["网络课程：信息技术应用", "读书分享会", "学术讲座", "书法与板书", "班主任工作坊", "积分兑换学时"]
# Hours as the text stored (multiples of 0.5: exact in SQLite's floating point too).
PUBLIC_HOURS = ["6", "8", "10", "12"]
PROF_HOURS = ["6", "7.5", "9", "12", "15"]
ELECTIVE_HOURS = ["4.5", "6", "8", "10"]
CARRY_HOURS = ["1.5", "3", "6", "9", "12"]
PUBLIC_SOURCES = ("provincial_import", "online_course")
PROF_SOURCES = ("registration", "declaration")
ELECTIVE_SOURCES = ("online_course", "declaration", "points_exchange")
# accounts_teacher's columns as the generators write them (Writer gives any other column its default).
TEACHER_COLUMNS = [
    "id",
    "user_id",
    "name",
    "id_number",
    "gender",
    "school_id",
    "stage",
    "subject",
    "title",
    "post_type",
    "first_employment_date",
    "phone",
    "email",
    "cpd_number",
    "status",
    "status_changed_on",
    "created_at",
    "updated_at",
]
DISTRICTS = [
    ("01", "越秀区", "district"),
    ("02", "海珠区", "district"),
    ("03", "天河区", "district"),
    ("04", "白云区", "district"),
    ("00", "市直属学校", "city_direct"),
]


# --- Django and the database ---------------------------------------------------------------------------


def django_setup(database_url: str | None = None) -> None:
    """Point the settings at `database_url` (when given) and set Django up; DEBUG off, so that
    connection.queries does not keep every statement (and distort the memory figures)."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("AXES_ENABLED", "0")
    import django

    django.setup()


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def vendor_of(database_url: str) -> str:
    return "postgresql" if is_postgres(database_url) else "sqlite"


def pg_connect(database_url: str, dbname: str | None = None, *, autocommit: bool = False):
    """A psycopg2 connection to the server of `database_url`: to its database, or to `dbname`."""
    import psycopg2

    u = urlparse(database_url)
    conn = psycopg2.connect(
        dbname=dbname or u.path.lstrip("/"),
        user=u.username or "postgres",
        password=u.password,
        host=u.hostname,
        port=u.port or 5432,
    )
    conn.autocommit = autocommit
    return conn


def recreate_postgres(database_url: str, *, also_drop: tuple[str, ...] = ()) -> None:
    """DROP and CREATE the database named by `database_url` (and drop the `also_drop` ones), connected to
    the server's `postgres` database."""
    name = urlparse(database_url).path.lstrip("/")
    conn = pg_connect(database_url, "postgres", autocommit=True)
    with conn.cursor() as cur:
        for db in (name, *also_drop):
            cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def close_django_connections() -> None:
    """Close this process's Django connections, if Django is set up here (a runner's process may hold
    one to the PostgreSQL database about to be dropped)."""
    if "django.db" in sys.modules:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()


def new_database(tag: str = "bench", folder: Path | None = None) -> tuple[str, Callable[[], None]]:
    """A new empty database, without setting Django up: DATABASE_URL=postgres://… drops and recreates
    that database; otherwise a new SQLite file (in `folder`, else in a new temp folder). Returns
    (url, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if vendor_of(url) == "postgresql":
        close_django_connections()
        recreate_postgres(url)
        return url, lambda: None  # kept for inspection; the next run drops it
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix=f"cpd-{tag}-"))
        remove_folder = True
    else:
        folder = Path(folder)
        remove_folder = False
    path = folder / f"{tag}-{time.time_ns()}.sqlite3"

    def cleanup() -> None:
        for f in folder.glob(f"{path.name}*"):
            f.unlink()
        if remove_folder:
            folder.rmdir()

    return f"sqlite:///{path}", cleanup


def migrate(url: str) -> None:
    django_setup(url)
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"  migrated {vendor_of(url)} database in {time.perf_counter() - t:.1f} s", flush=True)


def fresh_database(tag: str = "bench") -> tuple[str, Callable[[], None]]:
    """`new_database`, then Django set up on it and migrated (in this process)."""
    url, cleanup = new_database(tag)
    migrate(url)
    return url, cleanup


def generate_in_subprocess(url: str, n_teachers: int, year: int = YEAR) -> dict:
    """Migrate and generate in a child process, so that the caller stays small: a child inherits its
    parent's ru_maxrss high-water mark, and the measuring child must start from a small one."""
    cmd = [sys.executable, __file__, "--into", url, "--teachers", str(n_teachers), "--year", str(year)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.rstrip().splitlines()
    for line in lines[:-1]:
        print(line, flush=True)
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"data generation failed ({proc.returncode})")
    return json.loads(lines[-1])


def run_child(script: str, url: str, *args: str) -> dict:
    """Run `script --measure …` against `url` in a fresh process; its last stdout line is JSON."""
    proc = subprocess.run(
        [sys.executable, script, "--measure", *args], env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.PIPE, text=True
    )
    lines = proc.stdout.rstrip().splitlines()
    for line in lines[:-1]:
        print(line, flush=True)
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{Path(script).name} --measure failed ({proc.returncode})")
    return json.loads(lines[-1])


# --- measuring -------------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss, KiB on Linux). A child process
    starts from its parent's figure, which is why the benches measure in children of a small process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def current_rss_mb() -> float:
    return _proc_status_mb("VmRSS") or float("nan")


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


@contextmanager
def measure(result: dict, *, trace: bool = False):
    """Wall time (s), memory and, with `trace`, the tracemalloc peak (MB) of the block.

    Memory: `peak_rss_growth_mb` is the resident-set high-water mark reached in the block (VmHWM,
    reset at its start) less the resident set at its start: everything the block made resident,
    C allocations (SQLite, libpq, lxml) included. `maxrss_delta_mb` is the growth of ru_maxrss,
    which only shows when the block goes above what the process had already reached."""
    import gc

    gc.collect()
    before = rss_mb()
    reset = _reset_peak_rss()
    rss_before = current_rss_mb()
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - t
        if trace:
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result["maxrss_delta_mb"] = rss_mb() - before
        result["maxrss_mb"] = rss_mb()
        hwm = _proc_status_mb("VmHWM") if reset else None
        result["peak_rss_growth_mb"] = hwm - rss_before if hwm is not None else result["maxrss_delta_mb"]


# --- writing rows ----------------------------------------------------------------------------------------


class Writer:
    """Append rows (tuples in `columns` order) to a model's table with COPY (PostgreSQL), executemany of
    plain INSERTs (SQLite) or Django's bulk_create. Values are ints, None or already the text the
    database stores (dates, decimals, timestamps): the generator formats each distinct value once."""

    def __init__(self, model, columns: list[str], method: str, batch: int = 50_000):
        from django.db import connection

        self.model = model
        self.columns = columns
        self.method = method
        self.batch = batch
        self.rows: list[tuple] = []
        self.count = 0
        self.connection = connection
        self.table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        # Columns the generator does not know (added to the model since) get their default or NULL.
        self.extra = tuple(self._default(f) for c, f in fields.items() if c not in columns)
        self.columns = columns + [c for c in fields if c not in columns]
        self.attnames = [fields[c].attname for c in self.columns]

    def _default(self, field):
        from django.db.models import NOT_PROVIDED

        if field.default is not NOT_PROVIDED:
            value = field.get_default()
        elif field.null:
            return None
        else:
            raise SystemExit(
                f"bench/datagen.py: {field.model.__name__}.{field.name} is NOT NULL without a default; add it to the generator"
            )
        if isinstance(value, bool) and self.method != "bulk_create":
            return ("t" if value else "f") if self.method == "copy" else int(value)
        if isinstance(value, dict | list) and self.method != "bulk_create":
            import json

            return json.dumps(value)
        if hasattr(value, "isoformat") and self.method != "bulk_create":
            return value.isoformat()
        return value

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        self.count += len(rows)
        if self.extra:
            extra = self.extra
            rows = [r + extra for r in rows]
        if self.method == "bulk_create":
            self.model.objects.bulk_create(
                [self.model(**dict(zip(self.attnames, r, strict=True))) for r in rows], batch_size=2000
            )
        elif self.method == "copy":
            buf = io.StringIO()
            buf.writelines("\t".join(["\\N" if v is None else str(v) for v in r]) + "\n" for r in rows)
            buf.seek(0)
            with self.connection.cursor() as cur:
                cur.cursor.copy_expert(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", buf)
        else:
            sql = f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({', '.join('?' * len(self.columns))})"
            with self.connection.cursor() as cur:
                cur.cursor.executemany(sql, rows)  # the raw sqlite3 cursor: no %s rewriting


# --- the generator -----------------------------------------------------------------------------------------


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def generate(
    n_teachers: int,
    *,
    year: int = YEAR,
    seed: int = 20250101,
    method: str = "auto",
    teachers_per_school: int = 100,
    verbose: bool = True,
    analyze: bool = True,
) -> dict:
    """Generate the data set described in the module docstring; returns counts and the city's id."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.idnumber import make_id_number
    from accounts.models import Organisation, Teacher
    from hours.models import LedgerEntry, Year
    from verification.engine import UPSERT_COLUMNS
    from verification.models import Exemption, VerificationResult, YearPolicy

    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "executemany"
    if (method == "copy") != (connection.vendor == "postgresql") and method != "bulk_create":
        raise SystemExit(f"--method {method} does not work on {connection.vendor}")
    if not YearPolicy.objects.filter(year=year).exists():
        raise SystemExit(f"no YearPolicy for {year}: the data migration seeds 2022-2026")
    rng = random.Random(seed)
    choice, rand = rng.choice, rng.random
    t0 = time.perf_counter()
    # Timestamps as stored: naive UTC text on SQLite (raw INSERT), with the offset for COPY and bulk_create.
    stamp_format = "%Y-%m-%d %H:%M:%S" if method == "executemany" else "%Y-%m-%d %H:%M:%S+00:00"
    now = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
    stamps = [(now - datetime.timedelta(days=d, hours=h)).strftime(stamp_format) for d in range(0, 300, 7) for h in (0, 3)]
    dates = [datetime.date(year, m, d).isoformat() for m in range(1, 13) for d in (3, 10, 17, 24)]
    today = datetime.date.today().isoformat()
    Year.get_or_create_for(year - 1)
    Year.get_or_create_for(year)

    counts = {"teachers": 0, "ledger": 0, "last_year_results": 0, "exemptions": 0, "schools": 0}
    with transaction.atomic():
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute("PRAGMA cache_size = -200000")  # 200 MB page cache for the load only
            elif method == "copy":
                # The rows are consistent by construction: skip the deferred per-row foreign-key
                # triggers for this load (superuser only; a plain user just loads more slowly).
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cur.fetchone()[0]:
                    cur.execute("SET LOCAL session_replication_role = replica")
        # Organisations: explicit ids so that paths are known without a save per row.
        org_id = _next_id(Organisation)
        tag = f"B{org_id}"
        city = Organisation(pk=org_id, code=f"{tag}", name="基准测试市", kind="city", path=f"/{org_id}/")
        orgs = [city]
        districts = []
        for i, (suffix, name, kind) in enumerate(DISTRICTS, start=1):
            d = Organisation(
                pk=org_id + i, code=f"{tag}-{suffix}", name=name, kind=kind, parent_id=org_id, path=f"{city.path}{org_id + i}/"
            )
            districts.append(d)
        orgs += districts
        n_schools = max(1, round(n_teachers / teachers_per_school))
        school_ids = []
        next_org = org_id + len(districts) + 1
        for s in range(n_schools):
            d = districts[s % len(districts)]
            sid = next_org + s
            school_ids.append(sid)
            orgs.append(
                Organisation(
                    pk=sid,
                    code=f"{tag}-{d.code[-2:]}-{s:05d}",
                    name=f"{d.name}第{s + 1}学校",
                    kind="school",
                    parent_id=d.pk,
                    path=f"{d.path}{sid}/",
                )
            )
        Organisation.objects.bulk_create(orgs, batch_size=500)
        counts["schools"] = n_schools

        t_cols = TEACHER_COLUMNS
        l_cols = [
            "id",
            "teacher_id",
            "year",
            "category",
            "hours",
            "source",
            "title",
            "organiser",
            "start_date",
            "end_date",
            "certificate_number",
            "declaration_id",
            "source_ref",
            "project_id",
            "revokes_id",
            "reason",
            "actor_id",
            "created_at",
        ]
        r_cols = ["id", *UPSERT_COLUMNS]  # the columns the engine writes
        e_cols = ["id", "teacher_id", "year", "reason", "created_by_id", "created_at"]
        writers = {
            "teachers": Writer(Teacher, t_cols, method, batch=20_000),
            "ledger": Writer(LedgerEntry, l_cols, method, batch=100_000),
            "last_year_results": Writer(VerificationResult, r_cols, method, batch=20_000),
            "exemptions": Writer(Exemption, e_cols, method, batch=5_000),
        }
        add_teacher, add_entry = writers["teachers"].add, writers["ledger"].add
        add_result, add_exemption = writers["last_year_results"].add, writers["exemptions"].add
        tid = _next_id(Teacher)
        lid = _next_id(LedgerEntry)
        rid = _next_id(VerificationResult)
        eid = _next_id(Exemption)
        first_tid = tid
        regions = ["440103", "440104", "440105", "440106", "440111", "440112"]
        birth0 = datetime.date(1966, 1, 1)
        carry_title = f"{year - 1}年度结转的专业科目学时"
        for i in range(n_teachers):
            # Schools take contiguous blocks of the roster; 5% of teachers moved to a random school.
            school_id = school_ids[min(n_schools - 1, i * n_schools // n_teachers)] if rand() >= 0.05 else choice(school_ids)
            k = i // 1000
            birth = birth0 + datetime.timedelta(days=k * 7 % 12000 + k // 1700)
            id_number = make_id_number(regions[k % len(regions)], birth, i % 1000)
            status = "retired" if rand() < 0.01 else "active"
            stamp = choice(stamps)
            name = choice(SURNAMES) + choice(GIVEN) + (choice(GIVEN) if rand() < 0.7 else "")
            gender = "M" if int(id_number[16]) % 2 else "F"
            first_job = f"{min(birth.year + 22, 2024)}-09-01"
            add_teacher(
                (
                    tid,
                    None,
                    name,
                    id_number,
                    gender,
                    school_id,
                    "primary",
                    "math",
                    "grade1",
                    "teacher",
                    first_job,
                    "",
                    "",
                    f"B{year}{i:09d}",
                    status,
                    today,
                    stamp,
                    stamp,
                )
            )
            # Last year's result; 30% passed with a carry-out, which this year's carry-over entry mirrors.
            carry_out = None
            if rand() < 0.95:
                carry_out = choice(CARRY_HOURS) if rand() < 0.3 else "0"
                passed = carry_out != "0" or rand() < 0.6
                add_result(
                    (
                        rid,
                        tid,
                        year - 1,
                        None,
                        school_id,
                        "36",
                        "54",
                        "20",
                        "0",
                        "54",
                        "110",
                        "passed" if passed else "failed",
                        "0",
                        "0",
                        "0",
                        "0",
                        carry_out,
                        stamp,
                    )
                )
                rid += 1
            if carry_out and carry_out != "0":
                add_entry(
                    (
                        lid,
                        tid,
                        year,
                        "professional",
                        carry_out,
                        "carry_over",
                        carry_title,
                        "",
                        None,
                        None,
                        "",
                        None,
                        f"carry:{year - 1}:{tid}",
                        None,
                        None,
                        "",
                        None,
                        stamp,
                    )
                )
                lid += 1
            if rand() >= 0.01:
                topics = rng.sample(PUBLIC_TOPICS, choice((3, 4, 4, 4)))
                if rand() < 0.15:
                    topics.append(topics[0])  # the same topic again: only its largest entry counts
                for title in topics:
                    d = choice(dates)
                    add_entry(
                        (
                            lid,
                            tid,
                            year,
                            "public",
                            choice(PUBLIC_HOURS),
                            choice(PUBLIC_SOURCES),
                            title,
                            "省继续教育平台",
                            d,
                            d,
                            "",
                            None,
                            None,
                            None,
                            None,
                            "",
                            None,
                            choice(stamps),
                        )
                    )
                    lid += 1
                for _ in range(rng.randint(4, 6)):
                    d = choice(dates)
                    add_entry(
                        (
                            lid,
                            tid,
                            year,
                            "professional",
                            choice(PROF_HOURS),
                            choice(PROF_SOURCES),
                            choice(PROF_TITLES),
                            "区教师发展中心",
                            d,
                            d,
                            "",
                            None,
                            None,
                            None,
                            None,
                            "",
                            None,
                            choice(stamps),
                        )
                    )
                    lid += 1
                for _ in range(choice((2, 3, 3))):
                    d = choice(dates)
                    add_entry(
                        (
                            lid,
                            tid,
                            year,
                            "elective",
                            choice(ELECTIVE_HOURS),
                            choice(ELECTIVE_SOURCES),
                            choice(ELECTIVE_TITLES),
                            "",
                            d,
                            d,
                            "",
                            None,
                            None,
                            None,
                            None,
                            "",
                            None,
                            choice(stamps),
                        )
                    )
                    lid += 1
                if rand() < 0.05:
                    # A wrongly registered entry and the correction that revokes it: neither counts.
                    hours = choice(PROF_HOURS)
                    d = choice(dates)
                    add_entry(
                        (
                            lid,
                            tid,
                            year,
                            "professional",
                            hours,
                            "registration",
                            choice(PROF_TITLES),
                            "区教师发展中心",
                            d,
                            d,
                            "",
                            None,
                            None,
                            None,
                            None,
                            "",
                            None,
                            stamp,
                        )
                    )
                    add_entry(
                        (
                            lid + 1,
                            tid,
                            year,
                            "professional",
                            "-" + hours,
                            "correction",
                            "更正：撤销重复登记",
                            "",
                            None,
                            None,
                            "",
                            None,
                            None,
                            None,
                            lid,
                            "重复登记",
                            None,
                            stamp,
                        )
                    )
                    lid += 2
            if status == "active" and rand() < 0.003:
                add_exemption((eid, tid, year, "病假", None, stamp))
                eid += 1
            tid += 1
            if verbose and (i + 1) % 50_000 == 0:
                print(
                    f"  … {i + 1:,} teachers, {writers['ledger'].count + len(writers['ledger'].rows):,} entries ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
        for key, w in writers.items():
            w.flush()
            counts[key] = w.count
        if connection.vendor == "postgresql":
            from django.core.management.color import no_style

            with connection.cursor() as cur:
                for sql in connection.ops.sequence_reset_sql(
                    no_style(), [Organisation, Teacher, LedgerEntry, VerificationResult, Exemption]
                ):
                    cur.execute(sql)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    if analyze and connection.vendor == "postgresql":  # not inside a test's transaction (VACUUM cannot run there)
        # What autovacuum would have done by the time a year is verified: statistics and visibility map.
        with connection.cursor() as cur:
            for model in (Organisation, Teacher, LedgerEntry, VerificationResult, Exemption):
                cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    counts.update(
        {
            "city_id": city.pk,
            "first_teacher_id": first_tid,
            "year": year,
            "method": method,
            "load_seconds": round(t_load, 1),
            "analyze_seconds": round(time.perf_counter() - t1, 1),
        }
    )
    if verbose:
        print(
            f"  generated {counts['teachers']:,} teachers in {counts['schools']:,} schools, {counts['ledger']:,} ledger entries, "
            f"{counts['last_year_results']:,} results of {year - 1}, {counts['exemptions']:,} exemptions "
            f"in {t_load:.1f} s ({method}; vacuum/analyze {counts['analyze_seconds']} s)",
            flush=True,
        )
    return counts


def city_admin_role(city_id: int):
    """A user with a city admin role bound to the generated city (for exports)."""
    from accounts.models import Role, RoleKind, User

    user, _created = User.objects.get_or_create(username=f"bench-city-{city_id}", defaults={"name": "基准测试市管理员"})
    role, _created = Role.objects.get_or_create(user=user, kind=RoleKind.CITY_ADMIN, organisation_id=city_id)
    return role


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument(
        "--method",
        choices=["auto", "copy", "executemany", "bulk_create"],
        default="auto",
        help="auto: copy on PostgreSQL, executemany on SQLite",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp SQLite file (its path is printed)")
    parser.add_argument("--into", help=argparse.SUPPRESS)  # used by generate_in_subprocess: migrate + generate, JSON out
    args = parser.parse_args(argv)
    if args.into:
        migrate(args.into)
        print(json.dumps(generate(args.teachers, year=args.year, method=args.method)))
        return
    url, cleanup = fresh_database("datagen")
    print(f"database: {url}")
    with measure({}) as m:
        generate(args.teachers, year=args.year, method=args.method)
    print(f"datagen: {m['seconds']:.1f} s, max RSS {m['maxrss_mb']:.0f} MB")
    if args.keep:
        print(f"kept: {url}")
    else:
        cleanup()


if __name__ == "__main__":
    main()
