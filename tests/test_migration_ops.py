"""Indexes on existing tables are built without blocking writes (cpd.migration_ops).

A plain CREATE INDEX on the declarations blocked every submit and review for about 10 s at
1,500,000 teachers; on PostgreSQL the migrations that index an existing table build it
CONCURRENTLY, and hold nothing else, so that they can run outside a transaction safely.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader

from cpd.migration_ops import AddIndexConcurrently, RemoveIndexConcurrently

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = {c.label for c in apps.get_app_configs() if Path(c.path).is_relative_to(ROOT)}

# Written before the concurrent operations existed, each mixing an index with other schema changes
# that must stay in one transaction; already applied wherever the platform runs.
MIXED_BEFORE = {
    ("verification", "0005_result_indexes"),
    ("verification", "0007_scale_indexes_and_stats"),
    ("verification", "0012_complaint_school"),
}


def _project_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in PROJECT_APPS:
            yield app, name, migration


def test_indexes_on_existing_tables_are_built_concurrently():
    offenders = []
    for app, name, migration in _project_migrations():
        created = {op.name.lower() for op in migration.operations if isinstance(op, ops.CreateModel)}
        for op in migration.operations:
            plain = type(op) in (ops.AddIndex, ops.RemoveIndex)
            if plain and op.model_name.lower() not in created and (app, name) not in MIXED_BEFORE:
                offenders.append(f"{app}.{name}: {type(op).__name__} on {op.model_name}")
    assert offenders == [], "use cpd.migration_ops.AddIndexConcurrently / RemoveIndexConcurrently: " + "; ".join(offenders)


def test_concurrent_migrations_hold_only_index_operations_outside_a_transaction():
    seen = 0
    for app, name, migration in _project_migrations():
        concurrent = [op for op in migration.operations if isinstance(op, (AddIndexConcurrently, RemoveIndexConcurrently))]
        if not concurrent:
            continue
        seen += 1
        assert migration.atomic is False, f"{app}.{name} must set atomic = False"
        others = [type(op).__name__ for op in migration.operations if op not in concurrent]
        assert others == [], f"{app}.{name} mixes {others} with concurrent index builds"
    assert seen >= 8
    assert {"hours", "accounts", "verification", "training"} <= PROJECT_APPS


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses to open inside a transaction
def test_sql_is_concurrent_on_postgresql_and_plain_elsewhere():
    out = io.StringIO()
    call_command("sqlmigrate", "hours", "0007", stdout=out)
    sql = out.getvalue()
    assert "declaration_queue_category" in sql
    if connection.vendor == "postgresql":
        assert sql.count("CREATE INDEX CONCURRENTLY") == 3, sql
    else:
        assert "CONCURRENTLY" not in sql and sql.count("CREATE INDEX") == 3, sql
    out = io.StringIO()
    call_command("sqlmigrate", "hours", "0005", stdout=out)
    if connection.vendor == "postgresql":
        assert "DROP INDEX CONCURRENTLY" in out.getvalue()
