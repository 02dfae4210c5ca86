"""The verification engine: SPEC §5's arithmetic, and the set-based chunk job that applies it.

`verify_chunk` verifies the active teachers of one block of teacher ids (`plan_chunks`) with one
statement: the counted ledger entries aggregated per teacher, last year's carry-out, exemptions,
the rule of the year's policy (`_rule_sql`) and the upsert of the results, all in the database. No
row travels through Python and no query is made per teacher. Blocks of ids rather than groups of
schools: the block's ledger entries, last year's results and exemptions are each one range of their
(teacher, …) index, read by one scan instead of one probe per teacher (docs/scale.md, Verification).

Speed (bench/bench_verification.py, PostgreSQL backend CPU against the single hand-written INSERT …
SELECT of the same figures, docs/scale.md 2026-12-08): 1.25–1.36× at 200,000 teachers (≈2.4 M entries,
40 chunks), 1.55× at 1,000,000 (198 chunks); before a first run's chunks checked their foreign keys once
per chunk (`with_reference_checks`) instead of once per row, 1.64× and 1.93×. On SQLite 1.48× at 200,000.
The Python process stays flat (≈5 MB of growth at 200,000, 23 MB at 1,000,000); PostgreSQL gets
`work_mem` 32 MB for each chunk statement.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Organisation, Teacher, TeacherStatus
from hours.ledger import counted_entries as counted_entries  # re-exported: the rule lives in hours.ledger
from hours.ledger import per_key_hours
from hours.models import Category

from .models import (
    CarryRule,
    Exemption,
    ResultStatus,
    RunChunk,
    RunStatus,
    VerificationResult,
    VerificationRun,
    YearPolicy,
)

ZERO = Decimal("0")
CHUNK_TEACHERS = 5000


def carry_in_from_results(year: int, teacher_ids: Iterable[int]) -> dict[int, Decimal]:
    """{teacher id: carry-in} for `year`: last year's verified carry-out, the column `CHUNK_SQL` reads.
    Registered as the carry-in of `hours.ledger` (verification/apps.py), so pages count what the engine counts."""
    rows = VerificationResult.objects.filter(year=year - 1, teacher_id__in=teacher_ids, carry_out__gt=0)
    return dict(rows.values_list("teacher_id", "carry_out"))


def _rule_sql(policy: YearPolicy) -> tuple[str, str]:
    """SPEC §5 for one year's policy, as SQL over `base` (one row per teacher: teacher_id, school_id,
    public, professional_own, elective, carry_in, exempt): the common table expressions that judge each
    teacher, and the SELECT of the result columns in `UPSERT_COLUMNS` order.

    Carried-in hours count as professional hours of this year, toward the professional minimum and the
    total, and are used first; so what carries out is at most this year's own professional hours, and
    only a teacher who passes carries anything out:

        professional = carry_in + professional_own
        excess       = professional - min_professional                                   (2022 rule)
        excess       = min(professional - min_professional, total - min_total)           (2019 rule)
        carry_out    = max(0, min(professional_own, excess)) if passed else 0            (none: 0)
    """
    fn = {"greatest": "GREATEST", "least": "LEAST"} if connection.vendor == "postgresql" else {"greatest": "MAX", "least": "MIN"}
    g, le = fn["greatest"], fn["least"]
    if policy.carry_rule == CarryRule.RULE_2019:
        excess = f"{le}(professional - %(min_professional)s, total - %(min_total)s)"
    else:
        excess = "professional - %(min_professional)s"
    carry = "0" if policy.carry_rule == CarryRule.NONE else f"{g}(0, {le}(professional_own, {excess}))"
    ctes = f"""
totals AS (
    SELECT b.*, ROUND(carry_in + professional_own, 1) AS professional,
           ROUND(public + carry_in + professional_own + elective, 1) AS total
    FROM base b
),
short AS (
    SELECT t.*,
           ROUND({g}(0, %(min_public)s - public), 1) AS short_public,
           ROUND({g}(0, %(min_professional)s - professional), 1) AS short_professional,
           ROUND({g}(0, %(min_elective)s - elective), 1) AS short_elective,
           ROUND({g}(0, %(min_total)s - total), 1) AS short_total
    FROM totals t
),
judged AS (
    SELECT s.*,
           CASE WHEN exempt THEN %(exempt)s
                WHEN short_public = 0 AND short_professional = 0 AND short_elective = 0 AND short_total = 0 THEN %(passed)s
                ELSE %(failed)s END AS status
    FROM short s
)"""
    select = f"""
SELECT teacher_id, %(year)s, %(run)s, school_id, public, professional_own, elective, carry_in, professional, total, status,
       short_public, short_professional, short_elective, short_total,
       CASE WHEN status = %(passed)s THEN ROUND({carry}, 1) ELSE 0 END, %(now)s
FROM judged
-- Only while the run is still running: a late chunk of an interrupted run writes nothing over the newer
-- run results. (The SQLite parser also needs a WHERE before ON CONFLICT in INSERT … SELECT.)
WHERE EXISTS (SELECT 1 FROM {{run_table}} r WHERE r.id = %(run)s AND r.status = %(running)s)"""
    return ctes, select


# One statement per chunk: the chunk's active teachers, their counted hours per key (`hours.ledger.per_key_hours`:
# a public topic once, its largest entry), last year's carry-out and this year's exemption, then the rule,
# upserted by (teacher, year). {name} is a piece of SQL with its own parameters, %(name)s a parameter.
# ROUND(…, 1), here and in `_rule_sql`: on SQLite sums are floats (29.999… must equal 30); on PostgreSQL a no-op.
CHUNK_SQL = """
INSERT INTO {result} ({columns})
WITH chunk AS ({chunk}),
per_key AS ({per_key}),
base AS (
    -- one row per teacher of the chunk: UNION ALL, then one GROUP BY (no join on an unindexed CTE)
    SELECT teacher_id, MAX(school_id) AS school_id,
           ROUND(SUM(public), 1) AS public, ROUND(SUM(professional_own), 1) AS professional_own,
           ROUND(SUM(elective), 1) AS elective, ROUND(SUM(carry_in), 1) AS carry_in, MAX(exempt) = 1 AS exempt
    FROM (
        SELECT id AS teacher_id, school_id, 0 AS public, 0 AS professional_own, 0 AS elective, 0 AS carry_in, 0 AS exempt
        FROM chunk
        UNION ALL
        SELECT teacher_id, NULL,
               CASE WHEN category = %(public_cat)s THEN h ELSE 0 END,
               CASE WHEN category = %(professional_cat)s THEN h ELSE 0 END,
               CASE WHEN category = %(elective_cat)s THEN h ELSE 0 END, 0, 0
        FROM per_key
        UNION ALL
        SELECT teacher_id, NULL, 0, 0, 0, carry_out, 0
        FROM {result} WHERE year = %(last_year)s{bounds} AND teacher_id IN ({chunk_ids})
        UNION ALL
        SELECT teacher_id, NULL, 0, 0, 0, 0, 1
        FROM {exemption} WHERE year = %(year)s{bounds} AND teacher_id IN ({chunk_ids})
    ) parts
    GROUP BY teacher_id
    -- only the chunk's teachers (a city run's per_key holds every teacher of the id block; see verify_chunk)
    HAVING COUNT(school_id) > 0
),
{rules}
{select}
-- in teacher order: the new index entries and the foreign-key checks' lookups go block by block
ORDER BY 1{conflict}
"""
# The upsert's clause, left out when none of the block's teachers has a result of the year yet (see verify_chunk).
ON_CONFLICT = """
ON CONFLICT (teacher_id, year) DO UPDATE SET {updates}"""
UPSERT_COLUMNS = [
    "teacher_id",
    "year",
    "run_id",
    "school_id",
    "public",
    "professional_own",
    "elective",
    "carry_in",
    "professional",
    "total",
    "status",
    "short_public",
    "short_professional",
    "short_elective",
    "short_total",
    "carry_out",
    "computed_at",
]


def _compose(template: str, pieces: dict[str, tuple[str, Sequence[Any]]], params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`template` with each {name} replaced by the SQL of `pieces[name]` and each %(name)s by a positional
    placeholder, and the parameters of both in the order they occur (ORM subqueries come with positional ones)."""
    sql: list[str] = []
    values: list[Any] = []
    for part in re.split(r"(\{\w+\}|%\(\w+\)s)", template):
        if part.startswith("{") and part.endswith("}"):
            piece, piece_params = pieces[part[1:-1]]
            sql.append(piece)
            values.extend(piece_params)
        elif part.startswith("%("):
            sql.append("%s")
            values.append(params[part[2:-2]])
        else:
            sql.append(part)
    return "".join(sql), values


Chunk = dict[str, Any] | list[int]


def verify_chunk(run_id: int, chunk: Chunk, *, index: int | None = None, run: VerificationRun | None = None) -> int:
    """Compute and upsert the results of the chunk's active teachers for the run's year: one
    INSERT … SELECT … ON CONFLICT DO UPDATE, so no row travels through Python.

    A chunk is what `plan_chunks` plans, {"from": lo, "to": hi, "scope": path}: the active teachers
    with lo <= id < hi (None: open) of the schools under `path`. A list of school ids (the plans of
    runs started before ranges; kept for them) is every active teacher of those schools. With `index`
    (the chunk's place in the run's plan), the chunk is also recorded as done (`RunChunk`). `run`: the
    run as just read by the caller (else it is read here).

    Idempotent: re-delivering the same chunk rewrites the same rows. Returns the number of results.
    (Two statements: whether the block has results of the year yet, then the INSERT or the upsert.)
    """
    if run is None:
        run = VerificationRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return 0
    written = 0
    if chunk:
        # A block none of whose teachers has a result of the year yet (the year's first run) is written by a
        # plain INSERT: the upsert's speculative insertion (a check of the unique index before each row and a
        # confirmation after it) was about a sixth of a chunk at 1,000,000 teachers (docs/scale.md). Should
        # another worker insert some of the block's results after the check (a re-delivered chunk), the
        # unique index refuses the INSERT and the chunk is written again by the upsert: the same rows.
        upsert = _block_results(run, chunk).exists()
        try:
            written = _write_chunk(run, chunk, upsert=upsert)
        except IntegrityError:
            if upsert:
                raise
            written = _write_chunk(run, chunk, upsert=True)
    # After the chunk's commit, not inside its transaction: holding result rows while waiting for the run row
    # could deadlock with `run_finish`, which locks the run row and then deletes results. One transaction for
    # the run's heartbeat and the chunk's record, committed synchronously: that also makes the chunk's own
    # (asynchronous) commit durable, which comes before it in the log.
    with transaction.atomic() if index is not None else contextlib.nullcontext():
        VerificationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        if index is not None:
            RunChunk.objects.bulk_create([RunChunk(run_id=run.pk, index=index)], ignore_conflicts=True)
    return int(written)


def _block_results(run: VerificationRun, chunk: Chunk) -> QuerySet[VerificationResult]:
    """The results of the run's year that the chunk's statement could meet: those in its block of ids (a
    district's block also holds other districts' teachers: more than the chunk, never fewer), or for a
    list of schools those of their teachers. One range of the (teacher, year) index."""
    results = VerificationResult.objects.filter(year=run.year)
    if isinstance(chunk, dict):
        if chunk.get("from") is not None:
            results = results.filter(teacher_id__gte=chunk["from"])
        if chunk.get("to") is not None:
            results = results.filter(teacher_id__lt=chunk["to"])
        return results
    return results.filter(teacher__school_id__in=chunk)


def _write_chunk(run: VerificationRun, chunk: Chunk, *, upsert: bool) -> int:
    sql, params = chunk_statement(run, chunk, upsert=upsert)
    set_based = not upsert and set_based_reference_checks()
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The chunk's grouping fits in memory, no sort on disk. (One round trip for the settings.)
            # Asynchronous commit: the heartbeat's synchronous commit right after it (`verify_chunk`) flushes
            # the log past this one, so the chunk is durable before it is recorded as done, one flush a chunk.
            cur.execute(
                "SET LOCAL work_mem = '32MB'; SET LOCAL synchronous_commit = off"
                + ("; SET LOCAL session_replication_role = replica" if set_based else "")
            )
        if set_based:
            return insert_checked(cur, sql, params)
        cur.execute(sql, params)
        return int(cur.rowcount)


def insert_checked(cur: Any, insert_sql: str, params: Sequence[Any]) -> int:
    """Run `insert_sql`, a plain INSERT of results, with `session_replication_role` already `replica` for
    the transaction, checking its foreign keys once for the statement (`with_reference_checks`); then set
    the role back. Returns the rows written; raises IntegrityError, as the per-row checks would at commit,
    when a teacher, school or run it refers to no longer exists (the caller's atomic block rolls back)."""
    cur.execute(with_reference_checks(insert_sql), params)
    written, teachers, teachers_locked, schools, schools_locked, runs_locked = cur.fetchone()
    # Only this statement: the chunk may run inside a caller's transaction (tests, eager mode). (Should the
    # statement fail, the rollback of the caller's atomic block undoes the SET LOCAL with it.)
    cur.execute("SET LOCAL session_replication_role = DEFAULT")
    if (teachers_locked, schools_locked, runs_locked) != (teachers, schools, min(written, 1)):
        # Deleted between the statement's snapshot and its lock (the lock skips a deleted row).
        raise IntegrityError(
            f"insert of verification results: {teachers - teachers_locked} teacher(s), {schools - schools_locked} "
            f"school(s), {min(written, 1) - runs_locked} run(s) it refers to do not exist"
        )
    return int(written)


# Whether this database connection may skip the row-by-row foreign-key checks (`set_based_reference_checks`).
_SET_BASED: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def set_based_reference_checks() -> bool:
    """Whether a first-run chunk checks its results' three foreign keys once for the block rather than
    once per row: on PostgreSQL, when the setting allows it (`VERIFY_SET_BASED_CHECKS`) and the database
    role may set `session_replication_role` (a superuser, or on PostgreSQL 15 and later a role granted
    `SET ON PARAMETER session_replication_role`). Asked once per database connection."""
    if connection.vendor != "postgresql" or not settings.VERIFY_SET_BASED_CHECKS:
        return False
    connection.ensure_connection()
    raw = connection.connection
    allowed = _SET_BASED.get(raw)
    if allowed is None:
        with connection.cursor() as cur:
            if getattr(connection, "pg_version", 0) >= 150000:
                cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            else:
                cur.execute("SELECT current_setting('is_superuser') = 'on'")
            allowed = _SET_BASED[raw] = bool(cur.fetchone()[0])
    return allowed


def with_reference_checks(insert_sql: str) -> str:
    """`insert_sql` (a plain INSERT of results, run with `session_replication_role = replica`, so that
    PostgreSQL queues none of its per-row foreign-key checks) made to check the foreign keys itself, once
    for the whole statement, as the per-row checks would at commit: each referenced teacher, school and
    run is locked FOR KEY SHARE (the per-row check's own lock: nobody can delete it or change its id until
    this transaction ends) and counted. The statement returns one row: (results written, distinct
    teachers, teachers locked, distinct schools, schools locked, runs locked); a referenced row that was
    deleted meanwhile is not locked, and the caller refuses the chunk (`_write_chunk`).

    The constraints themselves stay as they are: every other write, and every delete of a teacher, school
    or run (the referenced side's checks, which this does not touch), is checked by PostgreSQL as before."""
    qn = connection.ops.quote_name
    teacher, school, run = (qn(m._meta.db_table) for m in (Teacher, Organisation, VerificationRun))
    return f"""WITH written AS (
{insert_sql}
RETURNING teacher_id, school_id, run_id),
teachers AS (SELECT x.id FROM {teacher} x WHERE x.id IN (SELECT teacher_id FROM written) FOR KEY SHARE OF x),
schools AS (SELECT x.id FROM {school} x WHERE x.id IN (SELECT school_id FROM written) FOR KEY SHARE OF x),
runs AS (SELECT x.id FROM {run} x WHERE x.id IN (SELECT run_id FROM written) FOR KEY SHARE OF x)
SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(DISTINCT teacher_id) FROM written), (SELECT COUNT(*) FROM teachers),
       (SELECT COUNT(DISTINCT school_id) FROM written), (SELECT COUNT(*) FROM schools), (SELECT COUNT(*) FROM runs)"""


def chunk_statement(run: VerificationRun, chunk: Chunk, *, upsert: bool = True) -> tuple[str, list[Any]]:
    """The SQL and parameters of `verify_chunk`'s one statement (bench/explain_verification.py EXPLAINs it):
    an upsert, or with `upsert` False a plain INSERT (for a block without results of the year)."""
    policy = YearPolicy.objects.get(year=run.year)
    now = timezone.now()
    active = Teacher.objects.filter(status=TeacherStatus.ACTIVE)
    if isinstance(chunk, dict):
        lo, hi = chunk.get("from"), chunk.get("to")
        chunk_teachers = active.filter(school__path__startswith=chunk["scope"])
        bounds, bound_params = [], []
        if lo is not None:
            chunk_teachers = chunk_teachers.filter(pk__gte=lo)
            bounds.append(" AND teacher_id >= %s")
            bound_params.append(lo)
        if hi is not None:
            chunk_teachers = chunk_teachers.filter(pk__lt=hi)
            bounds.append(" AND teacher_id < %s")
            bound_params.append(hi)
        # The chunk's entries, last year's results and exemptions are each read by one range scan of
        # their (teacher, …) index, not one probe per teacher.
        id_range: tuple[int | None, int | None] | None = (lo, hi)
        bounds_sql: tuple[str, Sequence[Any]] = ("".join(bounds), bound_params)
    else:
        chunk_teachers = active.filter(school_id__in=chunk)
        id_range, bounds_sql = None, ("", ())
    # A city-wide run's block of ids holds hardly anyone but the chunk's teachers (the retired): its
    # entries are read by the id range alone, and the HAVING of `base` drops the others' sums. Also
    # asking for `teacher_id IN (chunk)` there made the planner take the block's 54,000 entries for 244
    # (two restrictions it thinks independent) and check each for a revoking entry by its own index
    # probe. A district's block holds other districts' teachers too: there the chunk's teachers filter.
    subject = None if id_range is not None and run.district_id is None else chunk_teachers.values("pk")
    per_key = per_key_hours(run.year, subject, id_range=id_range)
    qn = connection.ops.quote_name
    rules, select = _rule_sql(policy)
    no_params: tuple[()] = ()
    return _compose(
        CHUNK_SQL.replace("{rules}", rules).replace("{select}", select).replace("{conflict}", ON_CONFLICT if upsert else ""),
        {
            "chunk": chunk_teachers.values("id", "school_id").order_by().query.sql_with_params(),
            "per_key": per_key.query.sql_with_params(),
            # The chunk's teachers again rather than the `chunk` CTE: the planner sees how many they are
            # (a CTE is guessed at 200 rows) and reads last year's results of a block by one range scan
            # and a hash join instead of one index probe per teacher.
            "chunk_ids": chunk_teachers.values("pk").order_by().query.sql_with_params(),
            "bounds": bounds_sql,
            "result": (qn(VerificationResult._meta.db_table), no_params),
            "exemption": (qn(Exemption._meta.db_table), no_params),
            "run_table": (qn(VerificationRun._meta.db_table), no_params),
            "columns": (", ".join(UPSERT_COLUMNS), no_params),
            "updates": (", ".join(f"{c} = excluded.{c}" for c in UPSERT_COLUMNS[2:]), no_params),
        },
        {
            "public_cat": Category.PUBLIC,
            "professional_cat": Category.PROFESSIONAL,
            "elective_cat": Category.ELECTIVE,
            "year": run.year,
            "last_year": run.year - 1,
            "run": run.pk,
            "now": VerificationResult._meta.get_field("computed_at").get_db_prep_save(now, connection),
            "min_public": policy.min_public,
            "min_professional": policy.min_professional,
            "min_elective": policy.min_elective,
            "min_total": policy.min_total,
            "passed": ResultStatus.PASSED,
            "failed": ResultStatus.FAILED,
            "exempt": ResultStatus.EXEMPT,
            "running": RunStatus.RUNNING,
        },
    )


def plan_chunks(teachers: QuerySet[Teacher], scope: str, limit: int = CHUNK_TEACHERS) -> tuple[int, list[dict[str, Any]]]:
    """(number of teachers, chunks): `teachers` (the run's active teachers, those of the schools under
    `scope`) cut by id into blocks of `limit`. The blocks cover every id: the first is open below, the
    last above, and each ends where the next begins, so a teacher added or moved meanwhile falls in
    exactly one chunk. One statement: every `limit`-th id in id order."""
    sub, params = teachers.annotate(tid=F("pk")).values("tid").order_by().query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tid, total FROM (SELECT tid, ROW_NUMBER() OVER (ORDER BY tid) AS n, COUNT(*) OVER () AS total "
            f"FROM ({sub}) t) numbered WHERE (n - 1) %% %s = 0 ORDER BY tid",
            [*params, limit],
        )
        rows = cur.fetchall()
    if not rows:
        return 0, []
    starts = [r[0] for r in rows]
    edges: list[int | None] = [None, *starts[1:], None]
    return int(rows[0][1]), [{"from": edges[i], "to": edges[i + 1], "scope": scope} for i in range(len(starts))]
