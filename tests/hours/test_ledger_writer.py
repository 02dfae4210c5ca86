"""hours/ledger.py is the only code that creates LedgerEntry rows: checked in the source (ast) and at run
time (tests/ledger_guard.py patches the model's save and bulk_create for the whole suite)."""

from __future__ import annotations

import ast
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from cpd.errors import StateConflict
from hours import ledger
from hours.models import Category, LedgerEntry, Source, Year
from tests.ledger_guard import LedgerWriteOutsideTheWriter

ROOT = Path(settings.BASE_DIR)
# bench/ fills benchmark databases with raw INSERT/COPY on purpose; tests put fixtures straight in.
NOT_APP_CODE = {".venv", "tests", "bench", "migrations", "node_modules", "var", "static"}
WRITES = {"create", "bulk_create", "get_or_create", "update_or_create"}


def app_modules() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not NOT_APP_CODE & set(p.relative_to(ROOT).parts)]


def ledger_writes(tree: ast.AST) -> list[int]:
    """Lines that build a LedgerEntry or create through its manager or a related manager (ledger_entries)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "LedgerEntry":
            lines.append(node.lineno)
        elif isinstance(f, ast.Attribute) and f.attr in WRITES:
            chain = ast.unparse(f.value)
            if chain.startswith("LedgerEntry") or chain.endswith("ledger_entries"):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and any(
            "hours_ledgerentry" in ast.unparse(a).lower() and "insert" in ast.unparse(a).lower() for a in node.args
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_ledger_creates_ledger_entries_in_its_source():
    found = {}
    for path in app_modules():
        lines = ledger_writes(ast.parse(path.read_text(encoding="utf-8")))
        if lines and path != ROOT / "hours" / "ledger.py":
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}
    assert ledger_writes(ast.parse((ROOT / "hours" / "ledger.py").read_text(encoding="utf-8")))  # the check sees writes


def test_the_source_check_sees_each_way_of_writing():
    for code in (
        "LedgerEntry(teacher=t)",
        "LedgerEntry.objects.create(teacher=t)",
        "LedgerEntry.objects.bulk_create(rows)",
        "teacher.ledger_entries.create(hours=1)",
        "cursor.execute('INSERT INTO hours_ledgerentry (id) VALUES (1)')",
    ):
        assert ledger_writes(ast.parse(code)) == [1], code


def test_a_module_writing_ledger_rows_itself_is_stopped_at_run_time(world):
    rogue = ROOT / "points" / "rogue_writer.py"  # never written to disk: only its name is on the stack
    code = compile(
        "def write(teacher):\n    return LedgerEntry.objects.create(teacher=teacher, year=2026, category='public',"
        " hours=1, source='registration', title='x')\n",
        str(rogue),
        "exec",
    )
    namespace = {"LedgerEntry": LedgerEntry}
    exec(code, namespace)
    with pytest.raises(LedgerWriteOutsideTheWriter, match="points/rogue_writer.py"):
        namespace["write"](world.teachers["teacher_a1"])
    assert not LedgerEntry.objects.exists()


def test_the_writer_checks_the_source_reference_and_the_year_lock_once(world):
    teacher = world.teachers["teacher_a1"]
    common = dict(teacher=teacher, year=2026, category=Category.PUBLIC, hours=Decimal(6), title="师德师风专题")
    with pytest.raises(ValueError, match="source reference"):
        ledger.entry_create(**common, source=Source.PROVINCIAL_IMPORT)
    first = ledger.entry_create(**common, source=Source.PROVINCIAL_IMPORT, source_ref="prov:1")
    with pytest.raises(ledger.DuplicateSource) as exc:
        ledger.entry_create(**common, source=Source.PROVINCIAL_IMPORT, source_ref="prov:1")
    assert exc.value.existing == first
    rows = [
        dict(
            teacher_id=teacher.pk,
            year=2026,
            category=Category.PUBLIC,
            hours=Decimal(6),
            title=f"专题{i}",
            source=Source.PROVINCIAL_IMPORT,
            source_ref=f"prov:{i}",
        )
        for i in (1, 2, 3)
    ]
    with pytest.raises(ledger.DuplicateSource):
        ledger.entries_create_many(rows)
    assert ledger.entries_create_many(rows, skip_existing=True) == 2
    Year.objects.update_or_create(
        year=2025, defaults={**Year.defaults_for(2025), "locked_at": datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)}
    )
    late = dict(common, year=2025, source=Source.REGISTRATION)
    with pytest.raises(StateConflict):
        ledger.entry_create(**late)
    with pytest.raises(StateConflict):
        ledger.entries_create_many([late])
    fixed = ledger.entry_create(**dict(late, source=Source.CORRECTION), reason="市里更正", correction=True)
    assert fixed.year == 2025
    revoked = ledger.entry_revoke(entry=fixed, actor=None, reason="录错", correction=True)
    assert (revoked.hours, revoked.revokes_id, revoked.source_ref) == (Decimal(-6), fixed.pk, f"revoke:{fixed.pk}")
    with pytest.raises(StateConflict):
        ledger.entry_revoke(entry=fixed, actor=None, reason="再撤一次", correction=True)
    assert LedgerEntry.objects.filter(teacher=teacher).count() == 5
