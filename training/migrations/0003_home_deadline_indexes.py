"""The enrolment to-do's deadline (home.todos.enrolment_item): projects by start, each probed for a waiting
enrolment in the role's scope, stopping at the first (instead of joining every waiting enrolment of the
city through its teacher)."""

from django.db import migrations, models

from cpd.migration_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    # Concurrent index builds (cpd.migration_ops): the table stays writable meanwhile.
    atomic = False

    dependencies = [
        ("training", "0002_enrolment_list_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="trainingproject",
            index=models.Index(fields=["start_date", "id"], name="project_start_idx"),
        ),
        AddIndexConcurrently(
            model_name="enrolment",
            index=models.Index(fields=["project", "state", "created_at", "id"], name="enrolment_project_state_idx"),
        ),
    ]
