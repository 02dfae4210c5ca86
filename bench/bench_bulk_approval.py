"""Bulk approval of 500 declarations at the school and at the district: set-based against one by one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_scale_bulk .venv/bin/python bench/bench_bulk_approval.py
    DATABASE_URL=postgres://…/<a copy of bench_pages' data> .venv/bin/python bench/bench_bulk_approval.py --reuse

A fresh database with bench/datagen.py's data (default 5,000 teachers) and 2.5 declarations per
teacher; then, for one school, 500 submitted declarations of the open year approved by
`declarations_bulk_approve` at the school and again at the district, and another 500 through
`declaration_transition` one by one (what bulk approval did before), alternated over `--rounds`.
Prints wall time and statement count of each; goal: 500 ids well under a second set-based.
Exactly one ledger entry per declaration approved at the district is checked.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages
import datagen

YEAR = 2026
N = 500
GOAL_SECONDS = 1.0

INSERT_SQL = """
INSERT INTO hours_declaration (teacher_id, year, category, activity_type, title, organiser, start_date, end_date,
    hours, certificate_number, certificate_in_chinese, certificate_states_hours, state, duplicate_flags, last_reason,
    created_at, updated_at, submitted_at, school_id, district_id)
SELECT t.id, %s, 'professional', 'authority_training', 'bulk ' || %s || ' ' || g.i, '区教师发展中心',
       %s, %s, 6.0, 'BULK-' || %s || '-' || g.i, TRUE, TRUE, 'submitted', '[]', '', %s, %s, %s, %s,
       (SELECT parent_id FROM accounts_organisation WHERE id = %s)
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS r, COUNT(*) OVER () AS n FROM accounts_teacher WHERE school_id = %s) t
JOIN (SELECT generate_series(0, %s - 1) AS i) g ON g.i %% t.n = t.r
"""


def make_batch(school_id: int, tag: str) -> list[int]:
    import datetime

    from django.db import connection
    from django.utils import timezone

    from hours.models import Declaration

    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            INSERT_SQL,
            [
                YEAR,
                tag,
                datetime.date(YEAR, 3, 2),
                datetime.date(YEAR, 3, 2),
                tag,
                now,
                now,
                now,
                school_id,
                school_id,
                school_id,
                N,
            ],
        )
    return list(Declaration.objects.filter(certificate_number__startswith=f"BULK-{tag}-").values_list("pk", flat=True))


def timed(fn) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        fn()
        secs = time.perf_counter() - t
    return secs, len(ctx.captured_queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the database's data as it is (e.g. a copy of bench_pages' 200,000 teachers) instead of generating it",
    )
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not datagen.is_postgres(url):
        print("bench_bulk_approval: needs DATABASE_URL=postgres://… (skipped)")
        return 0
    if args.reuse:
        datagen.migrate(url)
    else:
        datagen.recreate_postgres(url)
        datagen.django_setup(url)
        bench_pages.load(url, args.teachers)

    from accounts.models import Organisation, OrgKind, Role, RoleKind, User
    from hours import services
    from hours.models import LedgerEntry

    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    district = Organisation.objects.filter(parent=city, kind=OrgKind.DISTRICT).order_by("code").first()
    school = Organisation.objects.filter(parent=district, kind=OrgKind.SCHOOL).order_by("pk").first()
    users = {}
    for kind, org in (("school_admin", school), ("district_admin", district)):
        user, _ = User.objects.get_or_create(username=f"bulk-{kind}")
        users[kind] = (Role.objects.get_or_create(user=user, kind=getattr(RoleKind, kind.upper()), organisation=org)[0], user)

    figures: dict[str, list[tuple[float, int]]] = {}
    approved_at_district: list[int] = []
    for r in range(args.rounds):
        for way in ("set-based", "one by one"):
            ids = make_batch(school.pk, f"{r}-{way[:3]}")
            assert len(ids) == N, len(ids)
            for level in ("school", "district"):
                role, user = users[f"{level}_admin"]
                if way == "set-based":

                    def go(ids=ids, role=role, user=user):
                        out = services.declarations_bulk_approve(ids=ids, role=role, actor=user)
                        assert len(out["approved"]) == N, out["failed"][:3]

                else:
                    action = f"{level}_approve"

                    def go(ids=ids, role=role, user=user, action=action):
                        for pk in ids:
                            services.declaration_transition(declaration_id=pk, action=action, role=role, actor=user)

                figures.setdefault(f"{level}, {way}", []).append(timed(go))
            approved_at_district += ids
    ledger_ok = LedgerEntry.objects.filter(declaration__in=approved_at_district).count() == len(approved_at_district)
    from accounts.models import Teacher
    from hours.models import Declaration

    print(
        f"\n{N} declarations per call, {args.rounds} rounds alternating, {Teacher.objects.count():,} teachers and "
        f"{Declaration.objects.count():,} declarations in the database"
    )
    print(f"{'level, way':28} {'min s':>7} {'median s':>9} {'statements':>10}")
    met = True
    for name, runs in figures.items():
        secs = [s for s, _q in runs]
        print(f"{name:28} {min(secs):7.2f} {statistics.median(secs):9.2f} {runs[0][1]:10}")
        if "set-based" in name:
            met = met and statistics.median(secs) < GOAL_SECONDS
    print(f"one ledger entry per declaration approved at the district: {'ok' if ledger_ok else 'FAILED'}")
    print(
        f"goal: set-based 500 ids under {GOAL_SECONDS:.0f} s: {'met' if met else 'MISSED'}; load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if met and ledger_ok else 1


if __name__ == "__main__":
    sys.exit(main())
