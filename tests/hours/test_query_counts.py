"""Pages and API lists cost the same number of queries with 2 rows as with 20 (no N+1)."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import declare, pdf, png

# (persona, url, browser page or API)
PAGES = [
    ("teacher_a1", "/hours/?year=2026", "client"),
    ("teacher_a1", "/hours/declarations/", "client"),
    ("school_a1_admin", "/hours/review/", "client"),
    ("district_a_admin", "/hours/review/", "client"),
    ("city_admin", "/hours/teacher/{teacher}/?year=2026", "client"),
    ("teacher_a1", "/api/v1/declarations/", "api"),
    ("school_a1_admin", "/api/v1/declarations/?queue=mine", "api"),
    ("district_a_admin", "/api/v1/declarations/?queue=mine", "api"),
    ("district_a_admin", "/api/v1/declarations/?state=approved", "api"),
    ("teacher_a1", "/api/v1/ledger/?year=2026", "api"),
    ("city_admin", "/api/v1/ledger/", "api"),
    ("teacher_a1", "/api/v1/notifications/", "api"),
]


_salt = itertools.count(1)


def _add_rows(world, n):
    """n declarations waiting at each level and n approved (so n ledger entries), each with 2 evidence files."""
    for state in ("submitted", "school_approved", "approved"):
        for _ in range(n):
            files = [("certificate", pdf(extra=b"%d" % next(_salt))), ("certificate", png(extra=b"%d" % next(_salt)))]
            declare(world, "teacher_a1", state=state, files=files)


def _count(world, persona, url, kind, rows_expected):
    url = url.format(teacher=world.teachers["teacher_a1"].pk)
    client = world.client(persona) if kind == "client" else world.api(persona)
    client.get(url)  # warm up per-process caches (content types, translations)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    if kind == "api":
        assert len(response.json()["results"]) >= rows_expected
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona, url, kind", PAGES, ids=[f"{p}:{u}" for p, u, _k in PAGES])
def test_query_count_does_not_grow_with_rows(world, in_year, private_media, persona, url, kind):
    _add_rows(world, 2)
    with_two = _count(world, persona, url, kind, 2)

    _add_rows(world, 18)
    with_twenty = _count(world, persona, url, kind, 20)

    assert with_twenty == with_two
