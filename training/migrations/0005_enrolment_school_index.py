"""The index that reads an area's waiting enrolments by their school (training 0004): one range per school, by
state, oldest first."""

from django.db import migrations, models

from cpd.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    # Concurrent index builds (cpd.migration_ops): the table stays writable meanwhile.
    atomic = False

    dependencies = [
        ("training", "0004_enrolment_school"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="enrolment",
            index=models.Index(fields=["school", "state", "created_at", "id"], name="enrolment_school_state_idx"),
        ),
    ]
