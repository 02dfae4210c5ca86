"""Year-end points expiry at city scale: `points.services.points_expire_year` against hand-written SQL.

    .venv/bin/python bench/bench_points_expiry.py --teachers 1500000                 # temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench3 \\
        .venv/bin/python bench/bench_points_expiry.py --teachers 1500000             # drops and recreates cpd_bench3

What it does:
  1. a fresh database (a temp SQLite file, or the PostgreSQL database named by DATABASE_URL dropped,
     recreated and migrated);
  2. N teachers with points for one year (default 2025): 1–3 earned entries each (20–300 points),
     5% with a pending exchange request (its points held), 3% with a paid one (held, then spent),
     written with COPY on PostgreSQL and big executemany batches on SQLite;
  3. an identical copy of that database (PostgreSQL: CREATE DATABASE … TEMPLATE; SQLite: a file copy);
  4. `points_expire_year(year)` timed on the first, and on the copy a hand-written SQL that does the
     same in one transaction (release the pending requests, cancel them, one 'expired' entry per
     account with points left, zero the balances);
  5. both results compared (every account's balance and held, every released/expired entry, every
     request's state) and checked (each balance is the sum of its entries' deltas).

Prints both wall times and the ratio service/hand-written (goal ≤ 2×).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from datagen import TEACHER_COLUMNS, Writer, is_postgres, pg_connect, recreate_postgres  # noqa: E402

REASON_RELEASE = "年末自动取消未确认的兑换申请"
REASON_EXPIRE = "积分只在当年有效，年末清零"


# --- the database ----------------------------------------------------------------------------------------


def fresh_database() -> str:
    """Drop and recreate the PostgreSQL database of DATABASE_URL, or make a temp SQLite file; set
    Django up on it and migrate. Returns the URL."""
    url = os.environ.get("DATABASE_URL", "")
    if is_postgres(url):
        recreate_postgres(url, also_drop=(f"{urlparse(url).path.lstrip('/')}_hand",))
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='cpd-points-bench-')) / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")
    os.environ["DJANGO_DEBUG"] = "0"  # no connection.queries growing with every statement
    import django

    django.setup()
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"  migrated a fresh {'PostgreSQL' if is_postgres(url) else 'SQLite'} database in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    return url


# --- the data --------------------------------------------------------------------------------------------


def generate(n: int, year: int, seed: int, pending_share: float, paid_share: float) -> dict[str, int]:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from accounts.models import Organisation, Teacher
    from points.models import EarningRule, ExchangeRequest, PointsAccount, PointsEntry

    rng = random.Random(seed)
    rand, choice = rng.random, rng.choice
    t0 = time.perf_counter()
    pg = connection.vendor == "postgresql"
    stamp_fmt = "%Y-%m-%d %H:%M:%S+00:00" if pg else "%Y-%m-%d %H:%M:%S"  # SQLite: naive UTC, as the ORM stores it
    stamps = [datetime.datetime(year, m, d, 2, 0).strftime(stamp_fmt) for m in range(1, 13) for d in (5, 15, 25)]
    days = [datetime.date(year, m, d).isoformat() for m in range(1, 13) for d in (5, 15, 25)]
    amounts = [20, 50, 100, 100, 150, 300]
    counts = dict.fromkeys(("teachers", "accounts", "entries", "requests", "pending", "paid"), 0)
    with transaction.atomic():
        with connection.cursor() as cur:
            if pg:
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cur.fetchone()[0]:
                    # The rows are consistent by construction: skip the per-row foreign-key triggers.
                    cur.execute("SET LOCAL session_replication_role = replica")
            else:
                cur.execute("PRAGMA cache_size = -400000")
        city = Organisation.objects.create(code="PB", name="积分基准市", kind="city")
        district = Organisation.objects.create(code="PB-01", name="积分基准区", kind="district", parent=city)
        n_schools = max(1, n // 1000)
        schools = Organisation.objects.bulk_create(
            [
                Organisation(
                    code=f"PB-S{s:05d}", name=f"第{s + 1}学校", kind="school", parent=district, path=f"{district.path}s{s}/"
                )
                for s in range(n_schools)
            ],
            batch_size=1000,
        )
        school_ids = [s.pk for s in schools]
        rule = EarningRule.objects.create(action_code="bench", name="研修活动", points=20)
        method = "copy" if pg else "executemany"
        teachers = Writer(Teacher, TEACHER_COLUMNS, method, batch=200_000)
        accounts = Writer(PointsAccount, ["id", "teacher_id", "year", "balance", "held"], method, batch=200_000)
        entries = Writer(
            PointsEntry,
            [
                "id",
                "account_id",
                "kind",
                "delta",
                "amount",
                "rule_id",
                "request_id",
                "event_id",
                "occurred_on",
                "reason",
                "created_at",
            ],
            method,
            batch=400_000,
        )
        requests = Writer(
            ExchangeRequest,
            [
                "id",
                "teacher_id",
                "year",
                "category",
                "hours",
                "points",
                "state",
                "reason",
                "decided_by_id",
                "created_at",
                "decided_at",
            ],
            method,
            batch=200_000,
        )
        eid = rid = 0
        for i in range(1, n + 1):
            stamp = choice(stamps)
            teachers.add(
                (
                    i,
                    None,
                    f"教师{i}",
                    f"{440100000000000000 + i}",
                    "F",
                    school_ids[(i - 1) * n_schools // n],
                    "primary",
                    "math",
                    "grade1",
                    "teacher",
                    "2010-09-01",
                    "",
                    "",
                    f"PB{i:012d}",
                    "active",
                    "2020-01-01",
                    stamp,
                    stamp,
                )
            )
            total = 0
            for _ in range(choice((1, 2, 2, 3))):
                points = choice(amounts)
                total += points
                eid += 1
                entries.add((eid, i, "earned", points, points, rule.pk, None, None, choice(days), rule.name, stamp))
            held = 0
            for state, share in (("pending", pending_share), ("paid", paid_share)):
                if rand() < share and total - held >= 100:
                    hours = min((total - held) // 100, choice((1, 1, 2, 3)))
                    points = hours * 100
                    rid += 1
                    requests.add(
                        (
                            rid,
                            i,
                            year,
                            choice(("professional", "elective")),
                            hours,
                            points,
                            state,
                            "",
                            None,
                            stamp,
                            stamp if state == "paid" else None,
                        )
                    )
                    eid += 1
                    entries.add((eid, i, "held", -points, points, None, rid, None, days[-1], f"兑换申请 #{rid}", stamp))
                    if state == "paid":
                        eid += 1
                        entries.add((eid, i, "spent", 0, points, None, rid, None, days[-1], f"兑换 {hours} 学时", stamp))
                        total -= points
                    else:
                        held += points
                    counts[state] += 1
            accounts.add((i, i, year, total - held, held))
        for w in (teachers, accounts, entries, requests):
            w.flush()
        counts.update(teachers=teachers.count, accounts=accounts.count, entries=entries.count, requests=requests.count)
        if pg:
            with connection.cursor() as cur:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Teacher, PointsAccount, PointsEntry, ExchangeRequest]):
                    cur.execute(sql)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    with connection.cursor() as cur:
        if pg:
            for table in ("accounts_teacher", "points_pointsaccount", "points_pointsentry", "points_exchangerequest"):
                cur.execute(f"VACUUM ANALYZE {table}")
        else:
            cur.execute("ANALYZE")
    print(
        f"  generated {counts['teachers']:,} teachers, {counts['accounts']:,} points accounts, {counts['entries']:,} entries, "
        f"{counts['pending']:,} pending and {counts['paid']:,} paid requests in {t_load:.0f} s (+{time.perf_counter() - t1:.0f} s analyse)",
        flush=True,
    )
    return counts


# --- the hand-written SQL ------------------------------------------------------------------------------------

HAND_SQL = [
    # Release every pending request's points ...
    """INSERT INTO points_pointsentry (account_id, kind, delta, amount, request_id, occurred_on, reason, created_at)
       SELECT a.id, 'released', r.points, r.points, r.id, {p}, {p}, {p}
       FROM points_exchangerequest r JOIN points_pointsaccount a ON a.teacher_id = r.teacher_id AND a.year = r.year
       WHERE r.year = {p} AND r.state = 'pending'""",
    """UPDATE points_exchangerequest SET state = 'cancelled', reason = {p}, decided_at = {p} WHERE year = {p} AND state = 'pending'""",
    # ... then expire what is left (the released points included), and zero every account.
    """INSERT INTO points_pointsentry (account_id, kind, delta, amount, occurred_on, reason, created_at)
       SELECT id, 'expired', -(balance + held), balance + held, {p}, {p}, {p}
       FROM points_pointsaccount WHERE year = {p} AND balance + held > 0""",
    """UPDATE points_pointsaccount SET balance = 0, held = 0 WHERE year = {p} AND (balance > 0 OR held > 0)""",
]


def hand_params(year: int, today: str, stamp: str) -> list[list]:
    return [[today, REASON_RELEASE, stamp, year], [REASON_RELEASE, stamp, year], [today, REASON_EXPIRE, stamp, year], [year]]


def run_hand_sql(conn, vendor: str, year: int) -> float:
    """The same effect as points_expire_year in one transaction, on a raw DB-API connection."""
    from django.utils import timezone

    now = timezone.now()
    today = timezone.localdate(now).isoformat()
    stamp = now.isoformat(" ") if vendor == "postgresql" else now.replace(tzinfo=None).isoformat(" ")
    mark = "%s" if vendor == "postgresql" else "?"
    t = time.perf_counter()
    cur = conn.cursor()
    if vendor == "sqlite":
        cur.execute("BEGIN")
    for sql, params in zip(HAND_SQL, hand_params(year, today, stamp), strict=True):
        cur.execute(sql.format(p=mark), params)
    conn.commit()
    return time.perf_counter() - t


# --- comparing the two results -------------------------------------------------------------------------------

FINGERPRINTS = {
    "accounts": "SELECT id, balance, held FROM points_pointsaccount ORDER BY id",
    "released and expired entries": """SELECT account_id, kind, delta, amount, COALESCE(request_id, 0), reason FROM points_pointsentry
        WHERE kind IN ('released', 'expired') ORDER BY account_id, kind, COALESCE(request_id, 0)""",
    "requests": "SELECT id, state, reason FROM points_exchangerequest ORDER BY id",
}
BALANCE_CHECK = """SELECT COUNT(*) FROM points_pointsaccount a
    LEFT JOIN (SELECT account_id, SUM(delta) AS s FROM points_pointsentry GROUP BY account_id) e ON e.account_id = a.id
    WHERE a.balance <> COALESCE(e.s, 0) OR a.balance < 0 OR a.held <> 0"""


def fingerprint(cur) -> dict[str, tuple[int, str]]:
    out = {}
    for name, sql in FINGERPRINTS.items():
        cur.execute(sql)
        digest, rows = hashlib.sha256(), 0
        while batch := cur.fetchmany(100_000):
            rows += len(batch)
            digest.update(repr([tuple(r) for r in batch]).encode())
        out[name] = (rows, digest.hexdigest()[:16])
    cur.execute(BALANCE_CHECK)
    out["accounts whose balance is not the sum of their entries (or held left)"] = (cur.fetchone()[0], "")
    return out


# --- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=20251231)
    parser.add_argument("--pending", type=float, default=0.05, help="share of teachers with a pending request")
    parser.add_argument("--paid", type=float, default=0.03, help="share of teachers with a paid request")
    parser.add_argument("--chunk", type=int, default=None, help="override points.services.EXPIRY_CHUNK")
    parser.add_argument("--hand-first", action="store_true", help="run the hand-written SQL before the service")
    args = parser.parse_args()

    print(f"points expiry benchmark: {args.teachers:,} teachers, year {args.year}", flush=True)
    url = fresh_database()
    from django.db import connection

    from points import services

    if args.chunk:
        services.EXPIRY_CHUNK = args.chunk
    vendor = connection.vendor
    generate(args.teachers, args.year, args.seed, args.pending, args.paid)

    # An identical copy for the hand-written SQL.
    t = time.perf_counter()
    connection.close()
    if vendor == "postgresql":
        name = urlparse(url).path.lstrip("/")
        admin = pg_connect(url, "postgres", autocommit=True)
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}_hand" TEMPLATE "{name}"')
        admin.close()
        hand = pg_connect(url, f"{name}_hand")
    else:
        path = Path(urlparse(url).path)
        copy = path.with_name("hand.sqlite3")
        shutil.copyfile(path, copy)
        hand = sqlite3.connect(copy, isolation_level=None)
        hand.isolation_level = None
    print(f"  copied the database in {time.perf_counter() - t:.0f} s", flush=True)

    def warm(cur) -> None:
        # The same starting point for both: tables read once, WAL checkpointed.
        for table in ("points_pointsaccount", "points_pointsentry", "points_exchangerequest"):
            cur.execute(f"SELECT COUNT(*), SUM(id) FROM {table}")
            cur.fetchone()
        if vendor == "postgresql":
            cur.execute("CHECKPOINT")

    def run_service() -> float:
        with connection.cursor() as cur:
            warm(cur)
        t = time.perf_counter()
        result = services.points_expire_year(args.year)
        seconds = time.perf_counter() - t
        print(f"  points_expire_year({args.year}): {seconds:.1f} s  {result}", flush=True)
        return seconds

    def run_hand() -> float:
        cur = hand.cursor()
        warm(cur)
        if vendor == "postgresql":
            hand.commit()
        seconds = run_hand_sql(hand, vendor, args.year)
        print(f"  hand-written SQL:        {seconds:.1f} s", flush=True)
        return seconds

    if args.hand_first:
        t_hand, t_service = run_hand(), run_service()
    else:
        t_service, t_hand = run_service(), run_hand()

    with connection.cursor() as cur:
        ours = fingerprint(cur)
    theirs = fingerprint(hand.cursor())
    hand.close()
    same = ours == theirs
    for key in ours:
        print(f"    {key}: service {ours[key]}  hand {theirs[key]}")
    print()
    print(
        f"RESULT {vendor} teachers={args.teachers:,} service={t_service:.1f}s hand={t_hand:.1f}s ratio={t_service / t_hand:.2f}x (goal <= 2x) same_result={same}"
    )
    if vendor == "postgresql":
        admin = pg_connect(url, "postgres", autocommit=True)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}_hand" WITH (FORCE)')
        admin.close()
    else:
        shutil.rmtree(Path(urlparse(url).path).parent, ignore_errors=True)
    checks_ok = all(v[0] == 0 for k, v in ours.items() if k.startswith("accounts whose"))
    sys.exit(0 if same and checks_ok else 1)


if __name__ == "__main__":
    main()
