"""The cycle models moved to `cycles/` (installed only in a cycle deployment): state only. Their tables
keep their `verification_` names, so a cycle deployment keeps its data; an annual deployment keeps
the empty tables, which no code reads."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("verification", "0005_result_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='cyclecertificate',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='cyclecertificate',
                    name='teacher',
                ),
                migrations.DeleteModel(
                    name='CyclePolicy',
                ),
                migrations.RemoveField(
                    model_name='teachercycle',
                    name='teacher',
                ),
                migrations.DeleteModel(
                    name='CycleCertificate',
                ),
                migrations.DeleteModel(
                    name='TeacherCycle',
                ),
    
            ],
        ),
    ]
