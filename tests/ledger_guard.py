"""Only hours/ledger.py writes LedgerEntry rows: while a test runs, the model's save and its manager's
bulk_create refuse any caller in the project other than hours/ledger.py (tests' own fixtures may still
put rows straight into the ledger). Installed for the whole suite by tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR).resolve()
WRITER = ROOT / "hours" / "ledger.py"
TESTS = ROOT / "tests"
_SKIP = {ROOT / "hours" / "models.py", Path(__file__).resolve()}


class LedgerWriteOutsideTheWriter(AssertionError):
    pass


def writer_of(depth: int = 2) -> Path | None:
    """The first project file on the stack above the write (Django, libraries and the model's own save skipped)."""
    frame = sys._getframe(depth)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.is_absolute() and ROOT in path.parents and ".venv" not in path.parts and path not in _SKIP:
            return path
        frame = frame.f_back
    return None


def check_writer() -> None:
    path = writer_of(3)
    if path is None or path == WRITER or TESTS in path.parents:
        return
    raise LedgerWriteOutsideTheWriter(f"{path.relative_to(ROOT)} writes LedgerEntry rows: only hours/ledger.py may")


def install(monkeypatch) -> None:
    from hours.models import LedgerEntry, LedgerQuerySet

    save, bulk_create = LedgerEntry.save, LedgerQuerySet.bulk_create

    def guarded_save(self, *args, **kwargs):
        check_writer()
        return save(self, *args, **kwargs)

    def guarded_bulk_create(self, *args, **kwargs):
        check_writer()
        return bulk_create(self, *args, **kwargs)

    monkeypatch.setattr(LedgerEntry, "save", guarded_save)
    monkeypatch.setattr(LedgerQuerySet, "bulk_create", guarded_bulk_create)
