"""The declaration's school and district: `Declaration.school` and `Declaration.district`, the teacher's current
school and its district (or city-direct unit), for the review queues' indexes starting with them (hours 0009).

The district queue was the city's queue walked in submission order (`declaration_queue_order` on state,
submitted_at, id), each row's teacher and school probed for the district: page 1 read 5 rows of the city's
for each of the district's, a common surname's search ~18,000 buffers, and the per-year count joined the
city's waiting declarations to the teachers. With the district on the row, a district's queue is one range
of `declaration_district_queue`; by year, by a rare category or activity type, or its suspected duplicates,
one range of its own index. A school's queue was its teachers' waiting declarations, sorted; now one range of
`declaration_school_queue` in order. The indexes hold only what waits at their level (state submitted for a
school's, school_approved for a district's); the state-first queue indexes (`declaration_queue_order`, hours
0007's three) had no other reader and go.

Backfilled with one UPDATE … FROM (PostgreSQL; SQLite ≥ 3.33 too) from each teacher's school and its parent. A
school always hangs under a district or a city-direct unit (`accounts.models.ALLOWED_PARENT`), so every row
gets one; a school without a parent would stop the migration at the NOT NULL below (fix the school first).
"""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    schema_editor.execute(
        "UPDATE hours_declaration SET school_id = s.id, district_id = s.parent_id FROM accounts_teacher t"
        " JOIN accounts_organisation s ON s.id = t.school_id WHERE t.id = hours_declaration.teacher_id"
    )
    if schema_editor.connection.vendor == "postgresql":
        # The new column's foreign key is deferred: check it now, or the ALTER below meets pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def analyze(apps, schema_editor):
    # Every row was rewritten: the planner's statistics of the new columns (this deployment may run
    # without autovacuum; ANALYZE runs inside the migration's transaction, VACUUM could not).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE hours_declaration")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_teacher_name_search_index"),
        ("hours", "0007_review_queue_filter_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="declaration",
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
        migrations.AddField(
            model_name="declaration",
            name="district",
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
            model_name="declaration",
            name="school",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.AlterField(
            model_name="declaration",
            name="district",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
