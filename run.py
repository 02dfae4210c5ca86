#!/usr/bin/env python3
"""The two commands of the README, for a fresh machine with Python 3.11+.

    python3 run.py demo   # set up .venv, migrate, load demo data, serve http://127.0.0.1:8000
    python3 run.py demo --cycle   # the same for a five-year cycle deployment (Henan/Zhengzhou)
    python3 run.py test   # set up .venv with test tools, lint, check migrations, run the whole suite
    python3 run.py totp city   # the current second-factor code of a demo administrator

Uses only the standard library until the virtualenv exists. The demo runs on the
embedded default: SQLite in var/, Celery tasks eager (no broker needed).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def sh(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(requirements: str) -> None:
    """Create .venv and install the pinned requirements, skipping the install when nothing changed."""
    if not PY.exists():
        print(f"Creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", ROOT / requirements)
    stamp.write_text(digest)


def demo() -> None:
    ensure_venv("requirements.txt")
    (ROOT / "var").mkdir(exist_ok=True)
    cycle = "--cycle" in sys.argv[2:]
    if cycle:
        # A separate deployment: its own regime and its own database.
        os.environ["CPD_REGIME"] = "cycle"
        os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'cycle.sqlite3'}")
        os.environ.setdefault("CPD_CITY_CODE", "4101")
    sh(PY, "manage.py", "migrate", "--noinput", "-v", "0")
    sh(PY, "manage.py", "seed_demo", "--regime", "cycle" if cycle else "annual")
    print("\nThe platform is at http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/api/docs/)\n", flush=True)
    os.execv(str(PY), [str(PY), "manage.py", "runserver", "127.0.0.1:8000"])


def test() -> None:
    ensure_venv("requirements-dev.txt")
    sh(BIN / "ruff", "check", ".")
    sh(BIN / "ruff", "format", "--check", ".")
    cycle_env = {**os.environ, "CPD_REGIME": "cycle"}
    # Type-checked with every app installed (the cycle app exists only in a cycle deployment).
    sh(BIN / "mypy", env=cycle_env)
    sh(PY, "manage.py", "makemigrations", "--check", "--dry-run")
    sh(PY, "manage.py", "makemigrations", "--check", "--dry-run", env=cycle_env)
    args = sys.argv[2:]
    sh(PY, "-m", "pytest", *args)
    # The regime is a deployment choice (INSTALLED_APPS, URLs, beat schedule): the tests marked
    # `cycle` run again in a cycle deployment; in the run above they were skipped.
    options = [a for a in args if a.startswith("-")]
    sh(PY, "-m", "pytest", "-m", "cycle", *options, env=cycle_env)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "demo":
        demo()
    elif command == "test":
        test()
    elif command == "totp" and len(sys.argv) > 2:
        if "--cycle" in sys.argv[3:]:
            os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'cycle.sqlite3'}")
        sh(PY, "manage.py", "totp_code", sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
