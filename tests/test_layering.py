"""Imports run one way: cpd ← security ← accounts ← hours ← training / verification / points / cycles ← home ← demo.

An app may import the apps below it, never one above it nor a sibling on its own level (the four
domain apps on top of hours know nothing of each other). Parsed from the source (ast), so a lazy
import inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "cpd": 0,
    "security": 0.5,  # passwords, tokens, MFA, audit, ID-number crypto: accounts builds on it
    "accounts": 1,
    "hours": 2,
    "training": 3,
    "verification": 3,
    "points": 3,
    "cycles": 3,
    "home": 4,  # the home pages gather every domain's figures and to-dos
    "demo": 5,
}


def imported_apps(path: Path) -> set[tuple[str, int]]:
    """(app, line) for every import of a project app in the module; relative imports stay inside the app."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return {(app, line) for app, line in found if app in LAYERS}


# Known exceptions, to be inverted (the app hands its figures down, as verification.apps does for hours):
# the operations metrics read the domain tables and the production check reads the demo users.
# They came with the ops work after the layering was drawn; listed here so that no new one slips in.
KNOWN_EXCEPTIONS = {
    ("cpd/metrics.py", "hours"),
    ("cpd/metrics.py", "training"),
    ("cpd/metrics.py", "verification"),
    ("cpd/production.py", "accounts"),
}


def modules_of(app: str) -> list[Path]:
    # Migrations are frozen history: they name other apps by label, not by import.
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("app", list(LAYERS))
def test_an_app_imports_only_the_apps_below_it(app):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in modules_of(app)
        for other, line in sorted(imported_apps(path))
        if other != app and LAYERS[other] >= LAYERS[app] and (str(path.relative_to(ROOT)), other) not in KNOWN_EXCEPTIONS
    ]
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_layering_check_sees_a_violation(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from verification.engine import counted_entries\n")
    assert imported_apps(module) == {("verification", 2)}


def test_every_app_is_in_a_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), apps - set(LAYERS)


def imports_tasks(path: Path) -> bool:
    """Whether the module imports an app's tasks module (`from .tasks import`, `from . import tasks`,
    `import app.tasks`); `cpd.tasks`, the queueing helper, is what services use instead."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module == "cpd.tasks":
            continue
        if isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[-1] == "tasks" or any(a.name == "tasks" for a in node.names):
                return True
        elif isinstance(node, ast.Import) and any(a.name.split(".")[-1] == "tasks" for a in node.names):
            return True
    return False


def test_tasks_import_services_and_services_queue_tasks_by_name():
    wrong = [
        str(path.relative_to(ROOT))
        for app in LAYERS
        for path in modules_of(app)
        if path.name != "tasks.py" and path.parent.name != "commands" and imports_tasks(path)
    ]
    assert not wrong, "import a tasks module (queue by name with cpd.tasks.enqueue instead): " + ", ".join(wrong)
