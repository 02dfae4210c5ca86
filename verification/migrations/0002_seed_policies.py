"""The policies of SPEC §5: up to 2018 72/18/42/0 without carry-over; 2019 with the 2019 rule;
2022 on 90/30/42/18 with the 2022 rule. 2020 and 2021 are left for the city to set.

Annual deployments only: a cycle deployment (CPD_REGIME=cycle) has no yearly minimums to seed."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

D = Decimal


def seed(apps, schema_editor):
    if settings.CPD_REGIME != "annual":
        return
    YearPolicy = apps.get_model("verification", "YearPolicy")
    rows = {year: (D(72), D(18), D(42), D(0), "none") for year in range(2014, 2019)}
    rows[2019] = (D(72), D(18), D(42), D(0), "2019")
    for year in range(2022, 2027):
        rows[year] = (D(90), D(30), D(42), D(18), "2022")
    for year, (total, public, professional, elective, rule) in rows.items():
        YearPolicy.objects.get_or_create(
            year=year,
            defaults={
                "min_total": total,
                "min_public": public,
                "min_professional": professional,
                "min_elective": elective,
                "hours_per_day": D(6),
                "carry_rule": rule,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("verification", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
