"""`make bench`: every benchmark in bench/, one after the other, each on a fresh database.

    .venv/bin/python bench/run.py                        # all of bench/bench_*.py, SQLite in temp files
    .venv/bin/python bench/run.py registration_import    # only bench/bench_registration_import.py

The database is SQLite in a new temp file unless DATABASE_URL names another. PostgreSQL is the
production shape and the figures that matter; SQLite is the zero-setup default. On PostgreSQL:

    createdb -h 127.0.0.1 -U postgres cpd_bench          # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_bench .venv/bin/python bench/run.py

The PostgreSQL database named by DATABASE_URL is dropped and created again by each benchmark:
never point it at data you want to keep.

Each benchmark is a script that also runs on its own (`.venv/bin/python bench/bench_<name>.py`,
with its own options); this runner starts each with its defaults in a process of its own, with
DJANGO_SETTINGS_MODULE=cpd.settings and the environment above, and exits with status 1 if one
failed or missed a goal it checks. The helpers below set up a benchmark's environment and its
fresh, migrated database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from datagen import is_postgres, recreate_postgres

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def prepare_environment(workdir: Path) -> str:
    """Settings for a benchmark (this process and the measuring processes it starts): DATABASE_URL
    from the environment or a SQLite file in `workdir`, uploads in `workdir`, eager tasks. Returns the URL."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cpd.settings",
            "DATABASE_URL": url,
            "PRIVATE_MEDIA_ROOT": str(workdir / "private"),
            "CELERY_BROKER_URL": "",  # no broker: tasks run eagerly, inside the call that queues them
            "DJANGO_DEBUG": "0",  # connection.queries stays empty unless a benchmark captures on purpose
            "AXES_ENABLED": "0",
        }
    )
    return url


def fresh_database(url: str) -> None:
    """An empty, migrated database: PostgreSQL dropped and recreated, or a new SQLite file.

    `migrate` runs in a child process: the process that then starts the measuring processes stays
    small, and they inherit its ru_maxrss (a high-water mark survives fork and exec)."""
    if is_postgres(url):
        recreate_postgres(url)
    else:
        path = Path(urlparse(url).path)
        if path.exists():
            path.unlink()
    started = time.perf_counter()
    command = [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "--verbosity", "0"]
    subprocess.run(command, env=os.environ.copy(), cwd=ROOT, check=True)
    print(
        f"  migrated a fresh {'PostgreSQL' if is_postgres(url) else 'SQLite'} database in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def shown_url(url: str) -> str:
    password = urlparse(url).password
    return url.replace(password, "***") if password else url


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cpd.settings"}
    print(
        f"database: {shown_url(env['DATABASE_URL']) if env.get('DATABASE_URL') else 'SQLite, a temp file per benchmark'}",
        flush=True,
    )
    failed = []
    for name in names:
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(BENCH / f"bench_{name}.py")], env=env, cwd=ROOT, check=False)
        print(
            f"== {name}: {'done' if done.returncode == 0 else f'exit status {done.returncode}'} in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed or missed a goal: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
