# Accounts side of the security work: the first-login password flag, and ID numbers encrypted
# at rest with a keyed hash for lookups and uniqueness (existing rows are converted here).

import accounts.idnumber
import security.fields
from django.db import migrations, models


def encrypt_existing_id_numbers(apps, schema_editor):
    """Encrypt every plain ID number and fill its keyed hash, in chunks."""
    from security.crypto import keyed_hash

    Teacher = apps.get_model("accounts", "Teacher")
    batch = []
    # from_db_value passes a plain (not yet encrypted) value through; saving encrypts it.
    for teacher in Teacher.objects.only("pk", "id_number").order_by("pk").iterator(chunk_size=2000):
        teacher.id_number_hash = keyed_hash(teacher.id_number) if teacher.id_number else None
        batch.append(teacher)
        if len(batch) >= 2000:
            Teacher.objects.bulk_update(batch, ["id_number", "id_number_hash"])
            batch = []
    if batch:
        Teacher.objects.bulk_update(batch, ["id_number", "id_number_hash"])


def decrypt_id_numbers(apps, schema_editor):
    """Back to clear text (only for going back to 0002): written with SQL, the field would encrypt."""
    Teacher = apps.get_model("accounts", "Teacher")
    table = schema_editor.quote_name(Teacher._meta.db_table)
    rows = list(Teacher.objects.values_list("pk", "id_number"))
    with schema_editor.connection.cursor() as cursor:
        for start in range(0, len(rows), 2000):
            cursor.executemany(
                f"UPDATE {table} SET id_number = %s WHERE id = %s", [(plain, pk) for pk, plain in rows[start : start + 2000]]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_roster_import_in_the_worker"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="must_change_password",
            field=models.BooleanField(default=False, verbose_name="须修改密码"),
        ),
        migrations.AlterField(
            model_name="teacher",
            name="id_number",
            field=security.fields.EncryptedIdNumberField(
                hash_field="id_number_hash",
                max_length=18,
                validators=[accounts.idnumber.validate_id_number],
                verbose_name="身份证号",
            ),
        ),
        migrations.AddField(
            model_name="teacher",
            name="id_number_hash",
            field=security.fields.KeyedHashField(null=True, source="id_number", unique=True),
        ),
        migrations.RunPython(encrypt_existing_id_numbers, decrypt_id_numbers, elidable=False),
    ]
