"""Name searches and review-queue filters at city scale (issue 14): the page query of a search for a common
surname walks the list's own index order and keeps the matches (a page in a bounded number of rows, however
large the city), a rare name is read from the name index, and the review queue's category, activity-type and
suspected-duplicate filters read their own index entries. What matches is `icontains`, on both databases."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import OrgKind, Teacher
from accounts.selectors import name_contains
from cpd import pagination
from hours.models import Declaration, DeclarationState
from verification.models import ResultStatus, VerificationResult

from ..factories import OrganisationFactory, TeacherFactory
from .test_list_scale import _nodes

COMMON = "王"  # the commonest surname: a third of this city's teachers
RARE = "欧阳"  # one teacher
GIVEN = "伟明小华强丽静敏军勇"

_on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the plans are PostgreSQL's (the name index is migration accounts 0006's); SQLite scans its small roster",
)
# Committed rows, so that the city can be vacuumed: the rows other tests rolled back stay behind as dead rows
# (in the tables and their indexes) and would sway the planner's choice at this small size.
_committed = pytest.mark.django_db(transaction=True)


def postgres_plans(test):
    return _on_postgres(_committed(test))


def _page_query(queries, table):
    """The list's page query: the SELECT of `table`'s rows that carries a LIMIT (not a capped count)."""
    for q in queries:
        if q["sql"].startswith(f'SELECT "{table}".') and " LIMIT " in q["sql"]:
            return q["sql"]
    raise AssertionError(f"no page query on {table} among {[q['sql'][:80] for q in queries]}")


def _run(sql):
    """EXPLAIN ANALYZE of `sql` with sequential scans priced out (at this test's size the planner rightly reads
    small tables whole; a city's are not small): the plan's nodes, as run."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_seqscan")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return list(_nodes(plan[0]["Plan"]))


def _teachers_read(nodes):
    """How many teacher rows the statement read (kept or filtered out, over every loop)."""
    return sum(
        (n["Actual Rows"] + n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Index Recheck", 0)) * n["Actual Loops"]
        for n in nodes
        if n.get("Relation Name") == "accounts_teacher"
    )


@pytest.fixture
def city(world):
    """4,800 teachers in 60 schools of the three districts (one in three a 王, one 欧阳), each with a
    declaration waiting for the district and a result of 2025; statistics read as autovacuum would have."""
    given = GIVEN
    others = "李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
    schools = [
        OrganisationFactory(kind=OrgKind.SCHOOL, parent=district)
        for district, n in ((world.district_a, 30), (world.district_b, 20), (world.city_direct, 10))
        for _ in range(n)
    ]
    teachers = Teacher.objects.bulk_create(
        TeacherFactory.build(
            school=schools[i % len(schools)],
            name=(COMMON if i % 3 == 0 else others[i % len(others)]) + given[(i * 7) % 10] + given[i % 10],
            id_number="",
        )
        for i in range(4800)
    )
    rare = TeacherFactory(school=schools[0], name=f"{RARE}明")
    start = timezone.now() - datetime.timedelta(days=30)
    Declaration.objects.bulk_create(
        Declaration(
            teacher=t,
            school_id=t.school_id,  # bulk_create skips `save`, which sets them
            district_id=t.school.parent_id,
            year=2026,
            category="elective",
            activity_type="remote",
            title="校本研修",
            organiser="区教研室",
            start_date=datetime.date(2026, 3, 2),
            end_date=datetime.date(2026, 3, 2),
            hours=6,
            state=DeclarationState.SCHOOL_APPROVED,
            submitted_at=start + datetime.timedelta(minutes=i),
        )
        for i, t in enumerate([*teachers, rare])
    )
    VerificationResult.objects.bulk_create(
        VerificationResult(teacher=t, year=2025, school_id=t.school_id, status=ResultStatus.PASSED) for t in [*teachers, rare]
    )
    with connection.cursor() as cursor:  # as autovacuum would have (the name index's pending list merged too)
        cursor.execute(
            "VACUUM ANALYZE accounts_organisation, accounts_teacher, hours_declaration, verification_verificationresult"
        )
    return rare


# (persona, url, the page query's table): each list that searches by name.
SEARCHES = [
    ("city_admin", "/roster/?q={q}", "accounts_teacher"),
    ("district_a_admin", "/roster/?q={q}", "accounts_teacher"),
    ("city_admin", "/api/v1/teachers/?q={q}", "accounts_teacher"),
    ("district_a_admin", "/api/v1/teachers/?q={q}", "accounts_teacher"),
    ("district_a_admin", "/pickers/teachers/?q={q}", "accounts_teacher"),
    ("district_a_admin", "/hours/review/?q={q}", "hours_declaration"),
    ("city_admin", "/verification/results/?year=2025&q={q}", "verification_verificationresult"),
    ("district_a_admin", "/verification/results/?year=2025&q={q}", "verification_verificationresult"),
]


def _page_plan(world, persona, url, table):
    client = world.api(persona) if url.startswith("/api/") else world.client(persona)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response, _run(_page_query(ctx.captured_queries, table))


def _shape(nodes):
    return [(n["Node Type"], n.get("Relation Name") or n.get("Index Name"), n["Actual Rows"], n["Actual Loops"]) for n in nodes]


def _listed(response, url):
    """The names the user sees listed."""
    if url.startswith("/api/"):
        return [row["name"] for row in response.json()["results"]]
    if url.startswith("/pickers/"):
        return [row["label"].split("（")[0] for row in response.json()["results"]]
    return [getattr(row, "teacher", row).name for row in response.context["page"]]


@postgres_plans
def test_the_planner_knows_how_common_the_searched_name_is(world, city):
    """The estimate the plan is chosen by. Written as `icontains` AND the index's condition, 王 (1,600 of 4,801
    teachers) was estimated at a few dozen: the planner then read every 王 of the city from the name index."""
    for q, actual in (
        (COMMON, 1600),
        (f"{COMMON}{GIVEN[0]}", Teacher.objects.filter(name__contains=f"{COMMON}{GIVEN[0]}").count()),
    ):
        estimate = pagination.estimated_count(Teacher.objects.filter(name_contains(q)))
        assert actual / 2 <= estimate <= actual * 2, (q, estimate, actual)
    assert pagination.estimated_count(Teacher.objects.filter(name_contains(RARE))) < 50


@postgres_plans
def test_a_common_surname_is_found_by_walking_the_list_in_its_order_and_a_rare_name_from_the_index(world, in_year, city):
    # One city for every list (each test's rolled-back rows stay behind as dead rows and skew the next plan).
    for persona, url, table in SEARCHES:
        response, nodes = _page_plan(world, persona, url.format(q=COMMON), table)
        listed = _listed(response, url)
        assert len(listed) >= 20 and all(COMMON in name for name in listed), (url, listed)
        # 1,600 teachers of the city are 王 (800 of the district): the page reads a page's worth of the list in
        # its index order and keeps the matches, not every 王 of the scope from the name index, then sorted.
        assert _teachers_read(nodes) < 400, (persona, url, *_shape(nodes))
        assert not [n for n in nodes if n["Node Type"] == "Sort"], (persona, url, *_shape(nodes))

        response, nodes = _page_plan(world, persona, url.format(q=RARE), table)
        assert _listed(response, url) == [f"{RARE}明"], url
        assert "teacher_name_grams" in {n.get("Index Name") for n in nodes}, (persona, url, *_shape(nodes))
        assert _teachers_read(nodes) <= 2, (persona, url, *_shape(nodes))


# The review queue's filters, each with nothing (or almost nothing) matching among 3,001 waiting declarations:
# walked in the queue's order, the page would read the whole queue for nothing.
FILTERS = [
    ("/hours/review/?category=professional", "declaration_district_category"),
    ("/hours/review/?activity_type=degree", "declaration_district_activity"),
    ("/hours/review/?category=professional&activity_type=degree", None),  # either of the two
    ("/hours/review/?duplicates=on", "declaration_district_dups"),
]


@postgres_plans
def test_a_rare_review_filter_reads_its_own_index(world, in_year, city):
    flagged = Declaration.objects.filter(teacher__school__parent=world.district_a).order_by("pk").first()
    Declaration.objects.filter(pk=flagged.pk).update(
        category="professional", activity_type="degree", duplicate_flags=[{"kind": "certificate", "declaration": 1}]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE hours_declaration")
    for url, index in FILTERS:
        response, nodes = _page_plan(world, "district_a_admin", url, "hours_declaration")
        assert [d.pk for d in response.context["page"]] == [flagged.pk], url
        used = {n.get("Index Name") for n in nodes}
        wanted = {index} if index else {"declaration_district_category", "declaration_district_activity"}
        assert used & wanted, (url, *_shape(nodes))
        assert "declaration_district_queue" not in used, (url, *_shape(nodes))


# The district queue's pages (the browser's and the API's): each one range of a district-first index, in order
# (a filter every waiting declaration passes may walk the plain queue's range as well as the filter's own).
DISTRICT_PAGES = [
    ("/hours/review/", {"declaration_district_queue"}),
    (f"/hours/review/?q={COMMON}", {"declaration_district_queue"}),
    ("/hours/review/?category=elective", {"declaration_district_category", "declaration_district_queue"}),
    ("/hours/review/?year=2026", {"declaration_district_year", "declaration_district_queue"}),
    ("/api/v1/declarations/?queue=mine", {"declaration_district_queue"}),
]


@postgres_plans
def test_the_district_queue_is_one_range_of_its_districts_index_in_submission_order(world, in_year, city):
    """2,401 of the city's 4,801 waiting declarations are district A's, a third of them 王's: the page, the
    search and the filters read the district's own entries (`Declaration.district`) in the queue's order,
    never the city's queue probing each row's school, and sort nothing."""
    for url, indexes in DISTRICT_PAGES:
        persona = "district_a_admin"
        client = world.api(persona) if url.startswith("/api/") else world.client(persona)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        rows = response.json()["results"] if url.startswith("/api/") else response.context["page"]
        assert len(rows) >= 20, url
        nodes = _run(_page_query(ctx.captured_queries, "hours_declaration"))
        scans = [n for n in nodes if n.get("Relation Name") == "hours_declaration"]
        assert len(scans) == 1 and scans[0]["Node Type"] == "Index Scan", (url, *_shape(nodes))
        assert scans[0]["Index Name"] in indexes, (url, *_shape(nodes))
        assert "district_id" in scans[0]["Index Cond"] and not scans[0].get("Rows Removed by Filter"), scans[0]
        assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")], (url, *_shape(nodes))
        if url.startswith("/hours/"):
            # The per-year count: the district's range of (district, year) alone, no teacher read.
            count = next(q["sql"] for q in ctx.captured_queries if "SELECT COUNT(*) FROM (SELECT" in q["sql"])
            counted = _run(count)
            assert {n.get("Index Name") for n in counted if n.get("Relation Name")} == {"declaration_district_year"}, counted
            assert {n.get("Relation Name") for n in counted} - {None} == {"hours_declaration"}


@postgres_plans
def test_the_queue_searched_by_name_is_walked_once_not_by_parallel_workers(world, in_year):
    """A Gather Merge of two walks that each keep 1 row in 100 read 3× the buffers of one walk (200,000
    teachers): the search's page query runs in a transaction without parallel workers, and only it."""
    client = world.client("district_a_admin")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/hours/review/?q={COMMON}").status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    at = sqls.index("SET LOCAL max_parallel_workers_per_gather = 0")
    page = sqls.index(_page_query(ctx.captured_queries, "hours_declaration"))
    assert sqls[at - 1] == "BEGIN" and at < page < sqls.index("COMMIT", at)
    assert "SHOW" not in sqls and sqls.count("BEGIN") == 1
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/hours/review/").status_code == 200
    assert not [q for q in ctx.captured_queries if "max_parallel" in q["sql"]]
    with connection.cursor() as cursor:  # and the setting ended with its transaction
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] != "0"


NAMES = ["王伟明", "王小伟", "李伟", "Wang Weiming", "wang", "欧阳明", "50%_off", "a_b", "Straße", "伟王", "王"]
# (query, the names it finds on both databases): a part of the name, in any case (ASCII: SQLite's LIKE folds
# only ASCII), a pair only where it stands together, LIKE's wildcards as plain characters.
EXPECTED = [
    ("王", {"王伟明", "王小伟", "伟王", "王"}),
    ("王伟", {"王伟明"}),
    ("伟明", {"王伟明"}),
    ("王伟明", {"王伟明"}),
    ("明伟", set()),
    ("伟王", {"伟王"}),
    ("WANG", {"Wang Weiming", "wang"}),
    ("ng w", {"Wang Weiming"}),
    ("%", {"50%_off"}),
    ("_", {"50%_off", "a_b"}),
    ("%_", {"50%_off"}),
    ("a_", {"a_b"}),
    ("STRA", {"Straße"}),
    ("x", set()),
]


def _declared(world, names):
    teachers = [TeacherFactory(school=world.school_a1, name=name) for name in names]
    Declaration.objects.bulk_create(
        Declaration(
            teacher=t,
            school_id=t.school_id,  # bulk_create skips `save`, which sets them
            district_id=t.school.parent_id,
            year=2026,
            category="elective",
            activity_type="remote",
            title="校本研修",
            organiser="区教研室",
            start_date=datetime.date(2026, 3, 2),
            end_date=datetime.date(2026, 3, 2),
            hours=6,
        )
        for t in teachers
    )


@pytest.mark.parametrize("q, expected", EXPECTED, ids=[q for q, _e in EXPECTED])
def test_the_name_search_finds_a_part_of_the_name_in_any_case_on_both_databases(world, q, expected):
    _declared(world, NAMES)
    assert set(Teacher.objects.filter(name_contains(q)).values_list("name", flat=True)) == expected
    # Through a join (the review queue's and the results' filters), the same.
    joined = Declaration.objects.filter(name_contains(q, "teacher__name")).values_list("teacher__name", flat=True)
    assert set(joined) == expected


ODD_NAMES = ["STRASSE", "strasse", "ǅemal", "ﬀoo", "İstanbul", "istanbul", "back\\slash", "AAA", "ÀB", "àb"]


@pytest.mark.parametrize("q", ["王", "伟明", "王伟明", "ß", "SS", "ẞ", "ǅ", "ﬀ", "İ", "50%", "\\", "a", "à", "Àb", "AA"])
def test_the_name_search_is_exactly_icontains_whatever_the_characters(world, q):
    """On PostgreSQL the search is not written as `icontains` (see accounts.selectors.name_contains): it must
    still find exactly what `icontains` finds, upper-casing included."""
    _declared(world, [*NAMES, *ODD_NAMES])
    found = set(Teacher.objects.filter(name_contains(q)).values_list("name", flat=True))
    assert found == set(Teacher.objects.filter(name__icontains=q).values_list("name", flat=True))
    joined = set(Declaration.objects.filter(name_contains(q, "teacher__name")).values_list("teacher__name", flat=True))
    assert joined == found


@postgres_plans
def test_a_search_that_is_costly_to_count_exactly_says_about_how_many(world, in_year, city, monkeypatch):
    """A district's 王 are few (800) but counted from every 王 of the city in the name index: above the
    planner's price for an exact count, the roster says "about" the planner's figure instead of reading them."""
    client = world.client("district_a_admin")
    exact = client.get(f"/roster/?q={COMMON}")
    assert exact.context["page"].count == 800 and not exact.context["page"].count_is_estimate
    cost = pagination._estimate(_district_wangs(world))[1]
    monkeypatch.setattr(pagination, "EXACT_COUNT_COST_BELOW", cost / 2)
    about = client.get(f"/roster/?q={COMMON}")
    page = about.context["page"]
    assert page.count_is_estimate and 400 <= page.count <= 1600
    assert f"约 {page.count} 人" in about.content.decode()
    # A rare name is still counted exactly.
    rare = client.get(f"/roster/?q={RARE}").context["page"]
    assert (rare.count, rare.count_is_estimate) == (1, False)


def _district_wangs(world):
    from accounts.selectors import teachers_visible_to

    return teachers_visible_to(world.roles["district_a_admin"]).filter(name_contains(COMMON))
