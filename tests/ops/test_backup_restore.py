"""Backups restore: ops/backup.sh then ops/restore.sh into a fresh database and files directory give
the same teachers, the same ledger sums, the same verification results and the same evidence files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections

from ..hours.conftest import declare, in_year  # noqa: F401  (fixtures)
from ..verification.conftest import give, verify

ROOT = Path(__file__).resolve().parents[2]


def _url(settings_dict: dict, name: str) -> str:
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{host}:{port}/{name}"


def figures_of(database_url: str) -> dict:
    """The figures of a database, read by a separate process (as an operator would, after the restore)."""
    code = "import django; django.setup(); from tests.ops.backup_figures import main; main()"
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "cpd.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.postgres
def test_backup_and_restore_into_a_fresh_database_give_the_same_figures(
    committed_db,
    world,
    in_year,  # noqa: F811
    settings,
    tmp_path,
):
    media = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media}},
    }
    for persona, (public, professional, elective) in {
        "teacher_a1": (30, 50, 18),
        "teacher_a2": (30, 37, 23),
        "teacher_b1": (30, 42, 18),
        "teacher_c1": (20, 42, 18),
    }.items():
        give(world.teachers[persona], 2025, public=public, professional=professional, elective=elective)
    verify(world, 2025)
    declare(world, "teacher_a1", state="approved")
    declare(world, "teacher_b1", state="submitted")

    source = connections["default"].settings_dict
    restored_name = f"{source['NAME']}_restored_{os.getpid()}"
    env = {**os.environ, "DATABASE_URL": _url(source, source["NAME"]), "PRIVATE_MEDIA_ROOT": str(media)}
    env.pop("CPD_MEDIA_STORAGE", None)
    backup = tmp_path / "backup"
    before = figures_of(env["DATABASE_URL"])
    subprocess.run(["bash", ROOT / "ops/backup.sh", backup], env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(["createdb", "-h", source.get("HOST") or "127.0.0.1", "-U", source.get("USER") or "postgres", restored_name])
    restored_media = tmp_path / "restored-private"
    try:
        subprocess.run(
            ["bash", ROOT / "ops/restore.sh", backup],
            env={**env, "RESTORE_DATABASE_URL": _url(source, restored_name), "PRIVATE_MEDIA_ROOT": str(restored_media)},
            check=True,
            capture_output=True,
            timeout=120,
        )
        after = figures_of(_url(source, restored_name))
    finally:
        subprocess.run(
            ["dropdb", "-h", source.get("HOST") or "127.0.0.1", "-U", source.get("USER") or "postgres", restored_name],
            check=False,
        )

    assert after == before
    assert len(after["teachers"]) == 4 and len(after["results"]) == 4
    assert sum(Decimal(row[3]) for row in after["ledger"]) == Decimal("358") + Decimal("12")  # given + the approved declaration
    assert sorted(r[2] for r in after["results"]) == ["failed", "failed", "passed", "passed"]
    for _pk, name, sha256 in after["evidence"]:
        assert hashlib.sha256((restored_media / name).read_bytes()).hexdigest() == sha256
    print(
        f"\nrestore figures: {len(after['teachers'])} teachers, {len(after['ledger'])} ledger sums"
        f" ({sum(row[4] for row in after['ledger'])} entries, {sum(Decimal(row[3]) for row in after['ledger'])} hours),"
        f" {len(after['results'])} results, {len(after['evidence'])} evidence files"
    )
