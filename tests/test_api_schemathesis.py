"""Every operation of the OpenAPI schema (`/api/schema/`), fuzzed by schemathesis as four roles —
teacher, school admin, district admin, city admin — never answers 5xx, and every documented
response matches the schema (issue 15).

Bounded to fit CI: a few examples per operation (`MAX_EXAMPLES`), derandomised (the same cases
every run), each example sent once per role. Requests go through the WSGI application in this
process, so they see the test database. The roles log in with a session (the CSRF cookie and
header are sent for unsafe methods) and pick their role with `X-CPD-Role`.

Run time: 97 operations x 3 examples x 4 roles (about 1,200 requests) took 110-190 s of wall
time on this 2-core machine under a load average of 14 (other agents); see the report for the
CPU time. It found `/policies/{year}/revisions/` answering a list where the schema said a page.
"""

from __future__ import annotations

import secrets

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.conftest import force_login_verified

MAX_EXAMPLES = 3
PERSONAS = ("teacher_a1", "school_a1_admin", "district_a_admin", "city_admin")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# Only the fuzzing phase, a few examples each: the coverage phase alone generates hundreds of
# boundary cases per operation, far beyond a CI budget.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 15,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,  # the roles' own session, not generated credentials
        },
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


def _session(world, persona: str) -> dict:
    """The request arguments of a logged-in persona acting in its role."""
    client = Client()
    # Past the second factor: city and district admins would otherwise get 403 on every operation,
    # and the run would test nothing of theirs.
    force_login_verified(client, world.users[persona])
    csrf = secrets.token_hex(16)
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf, "X-CPD-Role": str(world.roles[persona].pk)},
    }


@pytest.fixture
def sessions(world, _test_connection_kept):
    return {persona: _session(world, persona) for persona in PERSONAS}


@pytest.fixture
def _test_connection_kept():
    """The WSGI app is called directly, so each request's end would close the database connection that
    the test's transaction lives in (PostgreSQL then answers "connection already closed"). Django's test
    client unhooks the same handler for the same reason."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_breaks_its_schema(case, sessions):
    for session in sessions.values():
        case.call_and_validate(headers=session["headers"], cookies=session["cookies"], checks=CHECKS)
