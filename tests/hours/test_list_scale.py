"""Long lists at city scale: each list's main query is answered in index order (no sort of the whole
table), and walking a list page by page (keyset cursors) returns every row exactly once while rows
are being added."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Teacher
from cpd import pagination
from hours.models import Declaration, LedgerEntry

from ..factories import TeacherFactory
from .conftest import declare

# (persona, url, main table): the widest scope of each list, where a sort would cost the most.
LISTS = [
    ("city_admin", "/api/v1/ledger/", "hours_ledgerentry"),
    ("city_admin", "/api/v1/ledger/?year=2026", "hours_ledgerentry"),
    ("city_admin", "/api/v1/declarations/", "hours_declaration"),
    ("city_admin", "/api/v1/declarations/?year=2026", "hours_declaration"),
    ("district_a_admin", "/api/v1/declarations/?queue=mine", "hours_declaration"),
    ("school_a1_admin", "/api/v1/declarations/?queue=mine", "hours_declaration"),
    ("district_a_admin", "/hours/review/", "hours_declaration"),
    ("school_a1_admin", "/hours/review/", "hours_declaration"),
    ("city_admin", "/api/v1/results/", "verification_verificationresult"),
    ("city_admin", "/api/v1/results/?year=2026", "verification_verificationresult"),
    ("city_admin", "/verification/results/?year=2026", "verification_verificationresult"),
    ("city_admin", "/api/v1/teachers/", "accounts_teacher"),
    ("city_admin", "/roster/", "accounts_teacher"),
]


def _main_query(queries, table):
    """The page query: the SELECT from the list's table that carries a LIMIT."""
    for q in queries:
        sql = q["sql"]
        if re.match(rf'SELECT .* FROM "{table}"', sql, re.S) and " LIMIT " in sql and "EXPLAIN" not in sql:
            return sql
    raise AssertionError(f"no page query on {table} among {[q['sql'][:80] for q in queries]}")


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan_without_sort(sql):
    """EXPLAIN with sorting priced out: a Sort node survives only if no index gives the order."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_sort = off; SET enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_sort; RESET enable_incremental_sort")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return [n["Node Type"] for n in _nodes(plan[0]["Plan"])]


@pytest.mark.postgres
@pytest.mark.parametrize("persona, url, table", LISTS, ids=[f"{p}:{u}" for p, u, _t in LISTS])
def test_list_is_read_in_index_order(world, in_year, private_media, persona, url, table):
    declare(world, "teacher_a1", state="approved")
    declare(world, "teacher_a1", state="submitted")
    declare(world, "teacher_a2", state="school_approved")
    client = world.api(persona) if url.startswith("/api/") else world.client(persona)
    pages = [url]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    first = _main_query(ctx.captured_queries, table)
    node_types = _plan_without_sort(first)
    assert not [t for t in node_types if "Sort" in t], f"{url}: {node_types}"
    # A deep page (after a cursor) is read the same way.
    if url.startswith("/api/"):
        sep = "&" if "?" in url else "?"
        pages.append(f"{url}{sep}page_size=1")
        listed = client.get(pages[-1]).json()
        if listed["next"]:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(listed["next"]).status_code == 200
            deep = _main_query(ctx.captured_queries, table)
            assert "> (" in deep or "< (" in deep, deep  # the row comparison the index answers
            node_types = _plan_without_sort(deep)
            assert not [t for t in node_types if "Sort" in t], f"{url} deep: {node_types}"


def _walk(client, url, add_between):
    """Every id on every page, following `next`; `add_between()` runs after each page."""
    seen = []
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        add_between()
    return seen


def test_walking_the_ledger_returns_each_entry_once_while_entries_arrive(world, in_year, private_media):
    for _ in range(5):
        declare(world, "teacher_a1", state="approved")
    before = set(LedgerEntry.objects.values_list("pk", flat=True))
    assert len(before) == 5

    seen = _walk(world.api("city_admin"), "/api/v1/ledger/?page_size=2", lambda: declare(world, "teacher_b1", state="approved"))

    assert len(seen) == len(set(seen)), "a row was listed twice"
    assert before <= set(seen), "a row present from the start was skipped"
    # Entries made while walking sort after the ones already seen (same year, later), so they show up too.
    assert set(seen) == set(LedgerEntry.objects.filter(pk__in=seen).values_list("pk", flat=True))


def test_walking_declarations_newest_first_returns_each_once_while_teachers_file(world, in_year, private_media, monkeypatch):
    for _ in range(5):
        declare(world, "teacher_a1", state="submitted")
    before = set(Declaration.objects.values_list("pk", flat=True))

    seen = _walk(world.api("city_admin"), "/api/v1/declarations/?page_size=2", lambda: declare(world, "teacher_b1"))

    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    body = world.api("city_admin").get("/api/v1/declarations/?page_size=2").json()
    # A short list is counted exactly on both databases; a long one on PostgreSQL is the planner's estimate.
    assert body["count_is_estimate"] is False and body["count"] == Declaration.objects.count()
    if connection.vendor == "postgresql":
        monkeypatch.setattr(pagination, "EXACT_COUNT_BELOW", 0)
        body = world.api("city_admin").get("/api/v1/declarations/?page_size=2").json()
        assert body["count_is_estimate"] is True and isinstance(body["count"], int)


def test_walking_the_roster_page_by_page_lists_each_teacher_once(world):
    school = world.school_a1
    TeacherFactory.create_batch(60, school=school, name="同名老师")  # ties on the sort: the id decides
    client = world.client("school_a1_admin")
    seen, url = [], "/roster/"
    while url:
        response = client.get(url)
        page = response.context["page"]
        seen += [t.pk for t in page]
        assert len(page) <= 25
        if page.has_next:
            assert 'data-testid="next-page"' in response.content.decode()
            TeacherFactory(school=school, name="同名老师")  # arrives while the admin reads
        url = f"/roster/?cursor={page.next_cursor}" if page.has_next else None
    assert len(seen) == len(set(seen))
    on_roster = set(Teacher.objects.filter(school=school).values_list("pk", flat=True))
    assert set(seen) <= on_roster and len(seen) >= 61


def test_a_made_up_cursor_is_refused_with_400_naming_it(world):
    response = world.api("city_admin").get("/api/v1/ledger/?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "cursor" in response.json()
