"""ID numbers encrypted at rest (rotatable Fernet keys) with a keyed hash for lookups and uniqueness."""

from __future__ import annotations

import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from accounts import services
from accounts.models import Teacher
from security.crypto import development_key, keyed_hash
from tests.factories import TeacherFactory

NUMBER = "110101199003078515"


def _raw(teacher) -> tuple[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, id_number_hash FROM accounts_teacher WHERE id = %s", [teacher.pk])
        return cur.fetchone()


def test_the_database_holds_ciphertext_and_a_keyed_hash_not_the_number(world):
    teacher = services.teacher_create(
        role=world.roles["school_a1_admin"],
        school=world.school_a1,
        data={"name": "新人", "id_number": NUMBER},
        actor=world.users["school_a1_admin"],
    )
    stored, digest = _raw(teacher)
    assert NUMBER not in stored
    assert stored.startswith("gAAAAA")
    assert digest == keyed_hash(NUMBER)
    assert NUMBER not in digest
    assert Teacher.objects.get(pk=teacher.pk).id_number == NUMBER


def test_bulk_created_rows_are_encrypted_too(world):
    Teacher.objects.bulk_create([Teacher(name="批量", id_number=NUMBER, school=world.school_a1, cpd_number="X1")])
    teacher = Teacher.objects.get(cpd_number="X1")
    assert _raw(teacher)[0].startswith("gAAAAA")
    assert _raw(teacher)[1] == keyed_hash(NUMBER)


def test_lookups_by_id_number_use_the_hash(world):
    teacher = world.teachers["teacher_a1"]
    assert list(Teacher.objects.filter(id_number=teacher.id_number)) == [teacher]
    assert list(Teacher.objects.filter(id_number__in=[teacher.id_number, NUMBER])) == [teacher]
    assert not Teacher.objects.filter(id_number=NUMBER).exists()
    assert Teacher.objects.filter(id_number__in=[]).count() == 0


def test_a_duplicate_id_number_is_refused_on_the_id_number_field(world):
    existing = world.teachers["teacher_a1"]
    with pytest.raises(ValidationError) as caught:
        services.teacher_create(
            role=world.roles["school_a1_admin"],
            school=world.school_a1,
            data={"name": "重复", "id_number": existing.id_number.lower()},
            actor=world.users["school_a1_admin"],
        )
    assert "id_number" in caught.value.message_dict


def test_keys_rotate_without_losing_a_number(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CPD_ID_NUMBER_KEYS = [old, development_key()]  # the personas were stored under the development key
    teacher = TeacherFactory(school=world.school_a1, id_number=NUMBER)
    under_old = _raw(teacher)[0]
    settings.CPD_ID_NUMBER_KEYS = [new, old, development_key()]  # the new key in front: all readable
    assert Teacher.objects.get(pk=teacher.pk).id_number == NUMBER
    call_command("rotate_id_number_keys", stdout=open("/dev/null", "w"))
    assert _raw(teacher)[0] != under_old
    settings.CPD_ID_NUMBER_KEYS = [new]  # the old key dropped
    assert Teacher.objects.get(pk=teacher.pk).id_number == NUMBER
    assert Teacher.objects.filter(id_number=NUMBER).get().pk == teacher.pk
    settings.CPD_ID_NUMBER_KEYS = [Fernet.generate_key().decode()]  # a wrong key is an error, never garbage
    with pytest.raises(ValueError):
        Teacher.objects.get(pk=teacher.pk)


def test_the_migration_encrypts_rows_stored_in_clear(world):
    teacher = world.teachers["teacher_a1"]
    plain = teacher.id_number
    with connection.cursor() as cur:
        cur.execute("UPDATE accounts_teacher SET id_number = %s, id_number_hash = NULL WHERE id = %s", [plain, teacher.pk])
    assert Teacher.objects.get(pk=teacher.pk).id_number == plain  # legacy plain rows still read
    migration = importlib.import_module("accounts.migrations.0004_security_fields")
    migration.encrypt_existing_id_numbers(apps, None)
    stored, digest = _raw(teacher)
    assert stored.startswith("gAAAAA") and plain not in stored
    assert digest == keyed_hash(plain)
    assert Teacher.objects.get(id_number=plain).pk == teacher.pk
