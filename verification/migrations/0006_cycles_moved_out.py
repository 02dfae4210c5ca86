"""The cycle models moved to `cycles/` (installed only in a cycle deployment): state only. Their tables
keep their `verification_` names, so a cycle deployment keeps its data. An annual deployment drops
them: no code of its reads them, and tables that no installed model knows would still reference the
teachers (a flush or a teacher's deletion would trip over their foreign keys)."""

from django.conf import settings
from django.db import migrations

CYCLE_MODELS = ("CycleCertificate", "TeacherCycle", "CyclePolicy")  # referencing tables first


def drop_cycle_tables_if_annual(apps, schema_editor):
    if getattr(settings, "CPD_REGIME", "annual") == "cycle":
        return
    for name in CYCLE_MODELS:
        schema_editor.delete_model(apps.get_model("verification", name))


def create_cycle_tables_if_annual(apps, schema_editor):
    if getattr(settings, "CPD_REGIME", "annual") == "cycle":
        return
    for name in reversed(CYCLE_MODELS):
        schema_editor.create_model(apps.get_model("verification", name))


class Migration(migrations.Migration):
    dependencies = [("verification", "0005_result_indexes")]

    operations = [
        migrations.RunPython(drop_cycle_tables_if_annual, create_cycle_tables_if_annual),
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
