"""Shared personas: a city with two districts and a city-direct unit, schools, one user per role.

city (广州市)
├── district_a (越秀区) ── school_a1, school_a2
├── district_b (海珠区) ── school_b1
├── city_direct (市直属) ── school_c1
└── provider_org
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User

from .factories import OrganisationFactory, TeacherFactory, UserFactory

PASSWORD = "Passw0rd-test!"


@dataclass
class World:
    city: Organisation
    district_a: Organisation
    district_b: Organisation
    city_direct: Organisation
    school_a1: Organisation
    school_a2: Organisation
    school_b1: Organisation
    school_c1: Organisation
    provider_org: Organisation
    users: dict[str, User]
    roles: dict[str, Role]
    teachers: dict[str, Teacher]

    def client(self, persona: str) -> Client:
        """A logged-in test client acting in the persona's role (second factor passed for administrators)."""
        c = Client()
        force_login_verified(c, self.users[persona])
        session = c.session
        session["active_role_id"] = self.roles[persona].pk
        session.save()
        return c

    def api(self, persona: str):
        from rest_framework.test import APIClient

        c = APIClient()
        c.force_authenticate(self.users[persona])
        c.credentials(HTTP_X_CPD_ROLE=str(self.roles[persona].pk))
        return c


def otp_device(user):
    """The user's confirmed TOTP device (created if missing): the authenticator app of the tests."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(user) -> str:
    """A code the user's authenticator app would show now (the next step's if this one was used)."""
    import time

    from django_otp.oath import TOTP

    device = otp_device(user)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t is not None and totp.t() <= device.last_t:
        totp.time = (device.last_t + 1) * device.step + device.t0
    return str(totp.token()).zfill(device.digits)


def force_login_verified(client: Client, user) -> None:
    """`client.force_login` that also marks the session as having passed the second factor.

    Administrators must pass MFA on every page; tests that are not about the login itself
    start from a session that did (tests/security/ and the browser journeys use the real form).
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from security.mfa import mfa_required

    client.force_login(user)
    if mfa_required(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device(user).persistent_id
        session.save()


def _org(name, code, kind, parent=None):
    return OrganisationFactory(name=name, code=code, kind=kind, parent=parent)


@pytest.fixture
def world(db) -> World:
    city = _org("广州市", "4401", OrgKind.CITY)
    district_a = _org("越秀区", "440104", OrgKind.DISTRICT, city)
    district_b = _org("海珠区", "440105", OrgKind.DISTRICT, city)
    city_direct = _org("市直属", "440100", OrgKind.CITY_DIRECT, city)
    school_a1 = _org("育才小学", "A1", OrgKind.SCHOOL, district_a)
    school_a2 = _org("东山中学", "A2", OrgKind.SCHOOL, district_a)
    school_b1 = _org("南华小学", "B1", OrgKind.SCHOOL, district_b)
    school_c1 = _org("市一中", "C1", OrgKind.SCHOOL, city_direct)
    provider_org = _org("教师发展中心", "P1", OrgKind.PROVIDER, city)

    personas = {
        "city_admin": (RoleKind.CITY_ADMIN, city),
        "district_a_admin": (RoleKind.DISTRICT_ADMIN, district_a),
        "district_b_admin": (RoleKind.DISTRICT_ADMIN, district_b),
        "city_direct_admin": (RoleKind.DISTRICT_ADMIN, city_direct),
        "school_a1_admin": (RoleKind.SCHOOL_ADMIN, school_a1),
        "school_a2_admin": (RoleKind.SCHOOL_ADMIN, school_a2),
        "school_b1_admin": (RoleKind.SCHOOL_ADMIN, school_b1),
        "school_c1_admin": (RoleKind.SCHOOL_ADMIN, school_c1),
        "principal_a1": (RoleKind.PRINCIPAL, school_a1),
        "provider": (RoleKind.PROVIDER, provider_org),
        "teacher_a1": (RoleKind.TEACHER, school_a1),
        "teacher_a2": (RoleKind.TEACHER, school_a2),
        "teacher_b1": (RoleKind.TEACHER, school_b1),
        "teacher_c1": (RoleKind.TEACHER, school_c1),
    }
    users, roles, teachers = {}, {}, {}
    for persona, (kind, org) in personas.items():
        user = UserFactory(username=persona)
        users[persona] = user
        roles[persona] = Role.objects.create(user=user, kind=kind, organisation=org)
        if kind == RoleKind.TEACHER:
            teachers[persona] = TeacherFactory(user=user, school=org, name=f"{org.name}老师")
    return World(
        city,
        district_a,
        district_b,
        city_direct,
        school_a1,
        school_a2,
        school_b1,
        school_c1,
        provider_org,
        users,
        roles,
        teachers,
    )


# The cycle app is installed only in a cycle deployment, so its test modules cannot even be imported
# in an annual run: they are collected only by `CPD_REGIME=cycle pytest -m cycle` (run.py test runs both).
collect_ignore = [] if os.environ.get("CPD_REGIME") == "cycle" else ["cycles", os.path.join("browser", "test_cycle_journey.py")]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    redis_url = os.environ.get("REDIS_URL")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (SQLite ignores row locks)")
            )
        if "redis" in item.keywords and not redis_url:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0"))
        # The regime is chosen per deployment (INSTALLED_APPS, URLs, beat schedule), so each test runs
        # in the one it is written for: `python3 run.py test` runs the suite, then
        # `CPD_REGIME=cycle pytest -m cycle` for the tests marked `cycle` (all of tests/cycles/).
        if "cycle" in item.keywords and settings.CPD_REGIME != "cycle":
            item.add_marker(pytest.mark.skip(reason="needs a cycle deployment: CPD_REGIME=cycle pytest -m cycle"))
        if "cycle" not in item.keywords and settings.CPD_REGIME == "cycle":
            item.add_marker(pytest.mark.skip(reason="an annual-deployment test (run without CPD_REGIME=cycle)"))


def pytest_configure(config):
    from django.conf import settings

    # Fast hashing for test users; production keeps Django's default PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _each_test_starts_with_an_empty_cache():
    """What a page caches for seconds (accounts.selectors.roster_overview) must not outlive the test's rows: a
    rolled-back test fires no signal, and SQLite gives its ids to the next test's rows."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _only_the_ledger_writes_ledger_entries(monkeypatch):
    """Every test doubles as a check that no module but hours/ledger.py creates LedgerEntry rows."""
    from .ledger_guard import install

    install(monkeypatch)


@pytest.fixture(autouse=True)
def _each_test_starts_in_the_default_language():
    """A request in English leaves English active in the test's thread (LocaleMiddleware activates, nothing
    deactivates); the next test must not inherit it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
