"""The daily reminder job at city scale: `home.reminders.send_reminders` 30 days before the declaration
deadline, when every teacher still short is reminded (in-app and e-mail).

    .venv/bin/python bench/bench_reminders.py --teachers 200000                  # temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench_home \\
        .venv/bin/python bench/bench_reminders.py --teachers 200000              # drops and recreates it

What it does:
  1. `bench/datagen.py`'s city (N teachers, a year of hours, last year's results), in a child process;
  2. a login with an e-mail address for every teacher, and the year's policy (90/30/42/18);
  3. `send_reminders(today=Dec 1)` timed, counting its SQL statements (e-mail through Django's dummy
     backend: the messages are built and handed to a connection, nothing leaves the machine);
  4. a second run the same day, which must remind nobody (idempotence), timed too.

Prints the wall time, the number of statements (bounded: a handful per deadline plus one per batch of
5,000 reminders, never one per teacher) and the number reminded.

Measured 2026-11-30 on the shared 2-core machine (other jobs running), 200,000 teachers, 120,755 of
them short and reminded (in-app + e-mail): PostgreSQL 141.5 s and 88 statements; SQLite 77.9 s and
164 statements. The second run the same day sends nothing: 12 statements, 62–66 s (most of it
working out who is short: the figures of 200,000 teachers over 2.4 M ledger entries).
"""

from __future__ import annotations

import argparse
import datetime
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


def add_logins() -> int:
    """One login per teacher, with an e-mail address, in two statements."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            """INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                          is_active, date_joined, name)
               SELECT '!', FALSE, 'bench-' || id, '', '', 'bench-' || id || '@example.org', FALSE, TRUE, CURRENT_TIMESTAMP, name
               FROM accounts_teacher"""
        )
        c.execute(
            "UPDATE accounts_teacher SET user_id = (SELECT u.id FROM accounts_user u WHERE u.username = 'bench-' || accounts_teacher.id)"
        )
        return c.rowcount


def count_queries():
    from django.db import connection

    counter = {"n": 0}

    def wrapper(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    return counter, connection.execute_wrapper(wrapper)


def run(n_teachers: int) -> dict:
    url, cleanup = datagen.new_database("reminders")
    data = datagen.generate_in_subprocess(url, n_teachers)
    datagen.django_setup(url)
    from decimal import Decimal

    from django.conf import settings

    from home.models import Reminder
    from home.reminders import send_reminders
    from verification.models import CarryRule, YearPolicy

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    year = datagen.YEAR
    YearPolicy.objects.update_or_create(
        year=year,
        defaults=dict(
            min_total=Decimal("90"),
            min_public=Decimal("30"),
            min_professional=Decimal("42"),
            min_elective=Decimal("18"),
            carry_rule=CarryRule.RULE_2022,
        ),
    )
    logins = add_logins()
    today = datetime.date(year, 12, 1)
    out: dict = {"teachers": n_teachers, "logins": logins, "vendor": datagen.vendor_of(url), "data": data}
    for label in ("first", "second"):
        counter, wrapper = count_queries()
        t = time.perf_counter()
        with wrapper:
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                import pstats

                prof = cProfile.Profile()
                report = prof.runcall(send_reminders, today=today)
                pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            else:
                report = send_reminders(today=today)
        out[label] = {"seconds": round(time.perf_counter() - t, 2), "queries": counter["n"], "report": report}
        print(f"{label} run: {out[label]['seconds']} s, {counter['n']} queries, {report}", flush=True)
    out["reminders_stored"] = Reminder.objects.count()
    cleanup()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")
    result = run(args.teachers)
    print(json.dumps({k: v for k, v in result.items() if k != "data"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
