"""The complaint's scope column: `ResultComplaint.school`, always its result's school.

Backfilled from the results. A trigger keeps it equal when a result's school changes: the verification
engine's upsert (`ON CONFLICT … DO UPDATE SET school_id = excluded.school_id`) moves a moved teacher's
result to the new school, and the complaint's scope must follow in the same statement, as it did when the
scope was read through the result. The trigger fires only for rows whose school changed (its WHEN), so
an upsert that keeps every teacher's school does no more work per row than evaluating that condition.

On SQLite, Django rebuilds a table to alter it, which drops its triggers: a later migration that alters
`verification_verificationresult` on SQLite must create this trigger again
(tests/verification/test_complaint_scope.py fails if it is missing).
"""

import django.db.models.deletion
from django.db import migrations, models

RESULT = "verification_verificationresult"
COMPLAINT = "verification_resultcomplaint"
TRIGGER = "verification_result_school_moves_complaints"

POSTGRES_CREATE = [
    f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {COMPLAINT} SET school_id = NEW.school_id WHERE result_id = NEW.id AND school_id <> NEW.school_id;
    RETURN NULL;
END $$""",
    f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF school_id ON {RESULT}
FOR EACH ROW WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id) EXECUTE FUNCTION {TRIGGER}()""",
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {RESULT}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"]
SQLITE_CREATE = [
    f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF school_id ON {RESULT}
FOR EACH ROW WHEN OLD.school_id IS NOT NEW.school_id
BEGIN
    UPDATE {COMPLAINT} SET school_id = NEW.school_id WHERE result_id = NEW.id;
END"""
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {TRIGGER}"]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


def backfill(apps, schema_editor):
    schema_editor.execute(
        f"UPDATE {COMPLAINT} SET school_id = (SELECT r.school_id FROM {RESULT} r WHERE r.id = {COMPLAINT}.result_id)"
    )
    if schema_editor.connection.vendor == "postgresql":
        # The new column's foreign key is deferred: check it now, or the ALTER below meets pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("verification", "0011_result_complaint_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="resultcomplaint",
            name="school",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="resultcomplaint",
            name="school",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.AddIndex(
            model_name="resultcomplaint",
            index=models.Index(fields=["school", "state", "notice"], name="result_complaint_school_idx"),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        ),
    ]
