"""Stored per-school cycle statistics (`CycleSchoolCount`): what the area levels of the cycle statistics
read, refreshed hourly. A new table: nothing to backfill (with no rows the statistics are computed live
until the first refresh)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_province_level"),
        ("cycles", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CycleSchoolCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("teachers", models.PositiveIntegerField(default=0)),
                ("with_cycle", models.PositiveIntegerField(default=0)),
                ("complete", models.PositiveIntegerField(default=0)),
                ("behind", models.PositiveIntegerField(default=0)),
                ("certified_this_year", models.PositiveIntegerField(default=0)),
                ("computed_at", models.DateTimeField()),
                (
                    "school",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organisation"
                    ),
                ),
            ],
        ),
    ]
