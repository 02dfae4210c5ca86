"""The training models moved to `training/` and the platform client to `cpd/`: this migration only
tells Django's migration state. Their tables keep their `hours_` names, so no data moves."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hours", "0003_cycle_regime"),
        ("training", "0001_initial"),
        ("cpd", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='enrolment',
                    name='district',
                ),
                migrations.RemoveField(
                    model_name='enrolment',
                    name='project',
                ),
                migrations.RemoveField(
                    model_name='enrolment',
                    name='teacher',
                ),
                migrations.RemoveField(
                    model_name='enrolmentevent',
                    name='enrolment',
                ),
                migrations.RemoveField(
                    model_name='enrolmentevent',
                    name='actor',
                ),
                migrations.RemoveField(
                    model_name='hoursimport',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='hoursimport',
                    name='project',
                ),
                migrations.RemoveField(
                    model_name='hoursimport',
                    name='uploaded_by',
                ),
                migrations.DeleteModel(
                    name='OnlineCourse',
                ),
                migrations.DeleteModel(
                    name='PlatformClient',
                ),
                migrations.RemoveField(
                    model_name='projectquota',
                    name='district',
                ),
                migrations.RemoveField(
                    model_name='projectquota',
                    name='project',
                ),
                migrations.RemoveField(
                    model_name='registrationcomplaint',
                    name='entry',
                ),
                migrations.RemoveField(
                    model_name='registrationcomplaint',
                    name='responded_by',
                ),
                migrations.RemoveField(
                    model_name='registrationcomplaint',
                    name='teacher',
                ),
                migrations.RemoveField(
                    model_name='registrationextension',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='registrationextension',
                    name='project',
                ),
                migrations.RemoveField(
                    model_name='registrationextension',
                    name='requested_by',
                ),
                migrations.RemoveField(
                    model_name='trainingproject',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='trainingproject',
                    name='organiser',
                ),
    
                migrations.AlterField(
                    model_name='ledgerentry',
                    name='project',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to='training.trainingproject', verbose_name='培训项目'),
                ),
                migrations.DeleteModel(
                    name='Enrolment',
                ),
                migrations.DeleteModel(
                    name='EnrolmentEvent',
                ),
                migrations.DeleteModel(
                    name='HoursImport',
                ),
                migrations.DeleteModel(
                    name='ProjectQuota',
                ),
                migrations.DeleteModel(
                    name='RegistrationComplaint',
                ),
                migrations.DeleteModel(
                    name='RegistrationExtension',
                ),
                migrations.DeleteModel(
                    name='TrainingProject',
                ),
    
            ],
        ),
    ]
