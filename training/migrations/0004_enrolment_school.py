"""The enrolment's scope column: `Enrolment.school`, always its teacher's current school.

Who sees an enrolment is decided by the teacher's current school (a school's own, an area's by the school's
path): `enrolments_visible_to` joined every enrolment through its teacher to find it, and the district home's
capped count of waiting enrolments read the district's teachers (20,000 at 200,000 teachers) to hash them
against the state's enrolments. With the school on the row and an index on (school, state, created_at, id)
(0005, built concurrently), an area's waiting enrolments are one index range per school, probed until the
cap, and a school's queue one range.

Backfilled from the teachers. A trigger keeps it equal when a teacher's school changes, whatever writes it:
the transfer service, the admin, a data fix. It fires only for a teacher whose school changed (its WHEN), so
saving a teacher who stays costs the evaluation of that condition. A school moved to another district keeps
its id: its enrolments follow through the school's path, as before. `enrolment_apply` sets the school of a
new enrolment; a transition saves only the fields it changes, never a school read before a transfer.

On SQLite, Django rebuilds a table to alter it, which drops its triggers: a later migration that alters
`accounts_teacher` on SQLite must create this trigger again (tests/hours/test_enrolment_school.py fails if
it is missing).
"""

import django.db.models.deletion
from django.db import migrations, models

TEACHER = "accounts_teacher"
ENROLMENT = "hours_enrolment"
TRIGGER = "accounts_teacher_school_moves_enrolments"

POSTGRES_CREATE = [
    f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {ENROLMENT} SET school_id = NEW.school_id WHERE teacher_id = NEW.id AND school_id <> NEW.school_id;
    RETURN NULL;
END $$""",
    f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF school_id ON {TEACHER}
FOR EACH ROW WHEN (OLD.school_id IS DISTINCT FROM NEW.school_id) EXECUTE FUNCTION {TRIGGER}()""",
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TEACHER}", f"DROP FUNCTION IF EXISTS {TRIGGER}()"]
SQLITE_CREATE = [
    f"""CREATE TRIGGER {TRIGGER} AFTER UPDATE OF school_id ON {TEACHER}
FOR EACH ROW WHEN OLD.school_id IS NOT NEW.school_id
BEGIN
    UPDATE {ENROLMENT} SET school_id = NEW.school_id WHERE teacher_id = NEW.id;
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
        f"UPDATE {ENROLMENT} SET school_id = (SELECT t.school_id FROM {TEACHER} t WHERE t.id = {ENROLMENT}.teacher_id)"
    )
    if schema_editor.connection.vendor == "postgresql":
        # The new column's foreign key is deferred: check it now, or the ALTER below meets pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def analyze(apps, schema_editor):
    # Every row was rewritten and the index is new: the planner's statistics (this deployment may run without
    # autovacuum; ANALYZE runs inside the migration's transaction, VACUUM could not).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ANALYZE {ENROLMENT}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_teacher_name_search_index"),
        ("training", "0003_home_deadline_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrolment",
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
            model_name="enrolment",
            name="school",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRES_CREATE, "sqlite": SQLITE_CREATE}),
            _run({"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
