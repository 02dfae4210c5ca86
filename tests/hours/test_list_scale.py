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


def _plan(sql, *settings):
    """EXPLAIN (FORMAT JSON) of `sql` with the given planner settings (e.g. a sequential scan priced out)."""
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET {setting} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        for setting in settings:
            cursor.execute(f"RESET {setting}")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return list(_nodes(plan[0]["Plan"]))


# The city's roster, page and API (the picker and the review queue's filter use the same condition,
# accounts.selectors.name_contains; at this test's size the planner may rightly read a school's few teachers instead).
SEARCHES = [
    ("city_admin", "/roster/?q={q}", "accounts_teacher"),
    ("city_admin", "/api/v1/teachers/?q={q}", "accounts_teacher"),
]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the name-search index (migration accounts 0006) is PostgreSQL's; SQLite scans its small roster",
)
@pytest.mark.parametrize("persona, url, table", SEARCHES, ids=[f"{p}:{u}" for p, u, _t in SEARCHES])
def test_a_search_by_name_reads_the_name_index_not_every_teacher(world, in_year, private_media, persona, url, table):
    wang = TeacherFactory(school=world.school_a1, name="王伟明")
    TeacherFactory(school=world.school_a1, name="李伟")  # shares a character, not the pair
    TeacherFactory(school=world.school_a1, name="王小伟")  # shares both characters, not in that order
    declare(world, "teacher_a1", state="submitted")
    # A roster big enough that reading the scope's teachers one by one costs more than the index would
    # (on a handful of rows the planner rightly reads them all); names from the same characters.
    given = "伟明小华强丽静敏军勇"
    Teacher.objects.bulk_create(
        TeacherFactory.build(school=school, name=f"{s}{given[(i * 7) % 10]}{given[i % 10]}", id_number="")
        for i, (s, school) in enumerate(
            (s, school)
            for s in "李张刘陈杨赵"
            for school in (world.school_a1, world.school_a2, world.school_b1)
            for _ in range(300)
        )
    )
    with connection.cursor() as cursor:
        # What autovacuum would have done by now: the index's pending list merged (a bulk insert leaves it
        # there and the planner prices the index by it) and the table's statistics read.
        cursor.execute("SELECT gin_clean_pending_list('teacher_name_grams'::regclass)")
        cursor.execute("ANALYZE accounts_teacher")
    client = world.api(persona) if url.startswith("/api/") else world.client(persona)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url.format(q="王伟"))
    assert response.status_code == 200
    if table == "accounts_teacher":
        # The user sees the teacher whose name holds "王伟", and not the near misses.
        is_json = response["Content-Type"].startswith("application/json")
        body = json.dumps(response.json(), ensure_ascii=False) if is_json else response.content.decode()
        assert "王伟明" in body and "李伟" not in body and "王小伟" not in body
        assert wang.cpd_number in body or str(wang.pk) in body
    searched = _main_query(ctx.captured_queries, table)
    assert "cpd_name_grams" in searched
    # With a sequential scan priced out, the search is answered from the name index: no read of every teacher.
    nodes = _plan(searched, "enable_seqscan")
    assert "teacher_name_grams" in {n.get("Index Name") for n in nodes}, nodes
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "accounts_teacher"]


def test_a_search_by_name_finds_a_part_of_the_name_in_any_case_on_both_databases(world):
    TeacherFactory(school=world.school_a1, name="Wang Weiming")
    TeacherFactory(school=world.school_a1, name="王伟明")
    client = world.client("city_admin")
    for q, found in (("weim", "Wang Weiming"), ("WANG W", "Wang Weiming"), ("伟明", "王伟明"), ("伟", "王伟明")):
        names = [t.name for t in client.get(f"/roster/?q={q}").context["page"]]
        assert found in names, (q, names)
    assert [t.name for t in client.get("/roster/?q=明伟").context["page"]] == []
