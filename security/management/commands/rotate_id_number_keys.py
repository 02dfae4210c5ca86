from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from security.crypto import keyed_hash

CHUNK = 2000


class Command(BaseCommand):
    help = (
        "Re-encrypt every ID number with the newest key of CPD_ID_NUMBER_KEYS and recompute its keyed hash "
        "with CPD_ID_NUMBER_HASH_KEY. Run after putting a new key first; drop the old key afterwards."
    )

    def handle(self, *args, **options):
        Teacher = apps.get_model("accounts", "Teacher")
        done = 0
        pks = list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), CHUNK):
            with transaction.atomic():
                # Loading decrypts with whichever key fits; saving encrypts with the newest.
                batch = list(
                    Teacher.objects.select_for_update().filter(pk__in=pks[start : start + CHUNK]).only("pk", "id_number")
                )
                for teacher in batch:
                    teacher.id_number_hash = keyed_hash(teacher.id_number) if teacher.id_number else None
                Teacher.objects.bulk_update(batch, ["id_number", "id_number_hash"])
            done += len(batch)
        self.stdout.write(f"Re-encrypted {done} ID numbers with the newest key.")
