"""factory_boy factories for the objects tests build beyond the shared personas."""

from __future__ import annotations

import datetime
import itertools

import factory

from accounts.idnumber import make_id_number
from accounts.models import Organisation, OrgKind, Role, Teacher, User

_seq = itertools.count(1)


def valid_id_number(n: int | None = None, region: str = "440106") -> str:
    """A distinct valid resident ID number per call (or per `n`)."""
    n = next(_seq) if n is None else n
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=(n * 37) % 14000)
    return make_id_number(region, birth, n % 1000)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"机构{n}")
    code = factory.Sequence(lambda n: f"T{n:05d}")
    kind = OrgKind.SCHOOL


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "Passw0rd-test!")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    user = factory.SubFactory(UserFactory)


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    name = factory.Sequence(lambda n: f"教师{n}")
    id_number = factory.LazyFunction(valid_id_number)
    gender = "F"
    stage = "primary"
    subject = "math"
    title = "grade1"
    post_type = "teacher"
    first_employment_date = datetime.date(2010, 9, 1)
    cpd_number = factory.Sequence(lambda n: f"T{n:010d}")
