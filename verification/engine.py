"""The verification engine: SPEC §5's arithmetic, and the set-based chunk job that applies it.

`compute` is the rule for one teacher, a pure function. `verify_chunk` applies it to every
active teacher of a group of schools with a fixed handful of queries — one aggregate over
the ledger (one row per teacher), one for last year's carry-out, one for exemptions, one bulk
upsert — never a query per teacher.

Speed (bench/bench_verification.py, 200,000 teachers, ≈2.4 M entries): the hours are summed per
teacher in the database and the results written with one `INSERT … ON CONFLICT DO UPDATE` per
batch of plain tuples, so Python handles one row per teacher and builds no model instance.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Context, Decimal

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, ExpressionWrapper, F, Max, Sum, Value, When
from django.db.models.constants import OnConflict
from django.utils import timezone

from accounts.models import Teacher, TeacherStatus
from hours.models import Category, LedgerEntry, Source

from .models import CarryRule, Exemption, ResultStatus, RunStatus, VerificationResult, VerificationRun, YearPolicy

ZERO = Decimal("0")
CHUNK_TEACHERS = 5000
UPSERT_BATCH = 1000  # rows per INSERT … ON CONFLICT statement where neither executemany (SQLite) nor COPY (psycopg2) serves
RESULT_FIELDS = [
    "run",
    "school",
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


@dataclass(frozen=True)
class Minimums:
    total: Decimal
    public: Decimal
    professional: Decimal
    elective: Decimal
    carry_rule: str

    @classmethod
    def of(cls, policy: YearPolicy) -> Minimums:
        return cls(policy.min_total, policy.min_public, policy.min_professional, policy.min_elective, policy.carry_rule)


def compute(
    m: Minimums, *, public: Decimal, professional_own: Decimal, elective: Decimal, carry_in: Decimal, exempt: bool = False
) -> dict:
    """One teacher's result for a year (SPEC §5).

    Carried-in hours count as professional hours of this year, toward the professional
    minimum and the total, and are used first; so what carries out is at most this year's
    own professional hours, and only a teacher who passes carries anything out:

        prof_total = carry_in + prof_own
        excess     = prof_total - prof_min                              (2022 rule)
        excess     = min(prof_total - prof_min, total - total_min)      (2019 rule)
        carry_out  = max(0, min(prof_own, excess)) if passed else 0
    """
    professional = carry_in + professional_own
    total = public + professional + elective
    short = {
        "short_public": max(ZERO, m.public - public),
        "short_professional": max(ZERO, m.professional - professional),
        "short_elective": max(ZERO, m.elective - elective),
        "short_total": max(ZERO, m.total - total),
    }
    passed = not any(short.values())
    if exempt:
        status = ResultStatus.EXEMPT
    else:
        status = ResultStatus.PASSED if passed else ResultStatus.FAILED
    carry_out = ZERO
    if status == ResultStatus.PASSED and m.carry_rule != CarryRule.NONE:
        excess = professional - m.professional
        if m.carry_rule == CarryRule.RULE_2019:
            excess = min(excess, total - m.total)
        carry_out = max(ZERO, min(professional_own, excess))
    return {
        "public": public,
        "professional_own": professional_own,
        "elective": elective,
        "carry_in": carry_in,
        "professional": professional,
        "total": total,
        "status": status,
        "carry_out": carry_out,
        **short,
    }


def counted_entries(year: int):
    """The ledger entries that count for `year`: corrections net out by leaving out both the
    revoked entry and the entry that revokes it; carry-over comes from last year's result."""
    entries = LedgerEntry.objects.filter(year=year, revoked_by__isnull=True).exclude(source=Source.CARRY_OVER)
    if connection.vendor == "sqlite":
        # Without ANALYZE statistics SQLite takes `revokes_id IS NULL` for a one-row lookup in that
        # column's unique index and reads the whole ledger through it, whatever else is filtered
        # (a full scan per verification chunk or export batch). `revokes_id + 0` means the same and
        # is no index candidate, so the (teacher, year, category) index is used.
        revokes = ExpressionWrapper(F("revokes_id") + 0, output_field=BigIntegerField())
        return entries.alias(_revokes=revokes).filter(_revokes__isnull=True)
    return entries.filter(revokes__isnull=True)


def hours_by_teacher(year: int, teacher_filter: dict) -> dict[int, dict[str, Decimal]]:
    """{teacher id: {category: hours}} with each public topic counted once (its largest entry)."""
    base = counted_entries(year).filter(**teacher_filter)
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: {c: ZERO for c in Category.values})
    for row in base.exclude(category=Category.PUBLIC).values("teacher_id", "category").annotate(s=Sum("hours")).order_by():
        totals[row["teacher_id"]][row["category"]] += row["s"] or ZERO
    for row in base.filter(category=Category.PUBLIC).values("teacher_id", "title").annotate(m=Max("hours")).order_by():
        totals[row["teacher_id"]][Category.PUBLIC] += row["m"] or ZERO
    return totals


def public_topics(year: int, teacher_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    """{teacher id: [(topic, hours)]} of the public subjects that count (each topic once), one query."""
    topics: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    rows = (
        counted_entries(year)
        .filter(teacher_id__in=teacher_ids, category=Category.PUBLIC)
        .values("teacher_id", "title")
        .annotate(m=Max("hours"))
        .order_by("teacher_id", "title")
        .values_list("teacher_id", "title", "m")
    )
    for teacher_id, title, hours in rows:
        topics[teacher_id].append((title, hours))
    return topics


def hours_per_teacher(year: int, teacher_filter: dict) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """{teacher id: (public, professional, elective)} of `counted_entries`, each public topic counted once
    (its largest entry): the same figures as `hours_by_teacher`, summed per teacher in the database, so
    one row per teacher comes back (one query)."""
    per_key = (
        counted_entries(year)
        .filter(**teacher_filter)
        .values("teacher_id", "category", topic=Case(When(category=Category.PUBLIC, then=F("title")), default=Value("")))
        .annotate(h=Case(When(category=Category.PUBLIC, then=Max("hours")), default=Sum("hours")))
        .values("teacher_id", "category", "h")
        .order_by()
    )
    inner, params = per_key.query.sql_with_params()
    sql = (
        "SELECT k.teacher_id, "
        "SUM(CASE WHEN k.category = %s THEN k.h ELSE 0 END), "
        "SUM(CASE WHEN k.category = %s THEN k.h ELSE 0 END), "
        "SUM(CASE WHEN k.category = %s THEN k.h ELSE 0 END) "
        f"FROM ({inner}) k GROUP BY k.teacher_id"
    )
    with connection.cursor() as cur:
        cur.execute(sql, (Category.PUBLIC, Category.PROFESSIONAL, Category.ELECTIVE, *params))
        rows = cur.fetchall()
    if connection.vendor == "sqlite":  # SQLite's sums are floats: convert as the ORM does (15 significant digits)
        dec = _SQLITE_DECIMAL.create_decimal_from_float
        return {t: (dec(p), dec(pr), dec(e)) for t, p, pr, e in rows}
    return {t: (p, pr, e) for t, p, pr, e in rows}


_SQLITE_DECIMAL = Context(prec=15)
UPSERT_FIELDS = ["teacher", "year", *RESULT_FIELDS]
VALUE_FIELDS = RESULT_FIELDS[2:-1]  # what `compute` returns, between run, school and computed_at


def _upsert_results(rows: list[tuple]) -> None:
    """Insert or update (by teacher and year) results given as plain tuples in `UPSERT_FIELDS` order:
    what `bulk_create(update_conflicts=True)` does, without a model instance and a compiled INSERT per
    batch of rows."""
    meta = VerificationResult._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    columns = [qn(meta.get_field(f).column) for f in UPSERT_FIELDS]
    keys = [qn(meta.get_field(f).column) for f in ("teacher", "year")]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    with transaction.atomic(savepoint=False), connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # SQLite runs in-process, so executemany has no round trips. Its ON CONFLICT DO UPDATE of
            # 15 columns costs about twice a plain INSERT per row even when nothing conflicts, so:
            # update the rows that exist, then insert the others (the same rows, in half the time).
            updates = columns[2:]
            cur.executemany(
                f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in updates)} WHERE {keys[0]} = %s AND {keys[1]} = %s",
                [(*r[2:], r[0], r[1]) for r in rows],
            )
            cur.executemany(f"{insert}{row_sql} ON CONFLICT ({', '.join(keys)}) DO NOTHING", rows)
            return
        suffix = connection.ops.on_conflict_suffix_sql(
            [meta.get_field(f) for f in UPSERT_FIELDS],
            OnConflict.UPDATE,
            [meta.get_field(f).column for f in RESULT_FIELDS],
            [meta.get_field(f).column for f in ("teacher", "year")],
        )
        if hasattr(cur.cursor, "copy_expert"):  # PostgreSQL with psycopg2
            # COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT: less than half the
            # time of multi-row VALUES statements, whose 17,000 parameters each cost more to send and
            # parse than the row costs to write. Every value is an int, a Decimal, a status code or the
            # timestamp: str() of each is COPY's text format.
            temp = qn("verification_result_upsert")
            cur.execute(f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(columns)} FROM {table} WITH NO DATA")
            data = io.StringIO("".join("\t".join(map(str, r)) + "\n" for r in rows))
            cur.cursor.copy_expert(f"COPY {temp} ({', '.join(columns)}) FROM STDIN", data)
            cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {temp} {suffix}")
            cur.execute(f"DROP TABLE {temp}")
            return
        for i in range(0, len(rows), UPSERT_BATCH):
            batch = rows[i : i + UPSERT_BATCH]
            cur.execute(f"{insert}{', '.join([row_sql] * len(batch))} {suffix}", [v for r in batch for v in r])


def verify_chunk(run_id: int, school_ids: list[int]) -> int:
    """Compute and upsert the results of every active teacher of `school_ids` for the run's year.

    Idempotent: re-delivering the same chunk rewrites the same rows. Returns the number of results.
    """
    run = VerificationRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return 0
    policy = YearPolicy.objects.get(year=run.year)
    m = Minimums.of(policy)
    chunk_teachers = Teacher.objects.filter(school_id__in=school_ids, status=TeacherStatus.ACTIVE)
    teachers = list(chunk_teachers.values_list("pk", "school_id"))
    if not teachers:
        return 0
    # `teacher_id IN (subquery)` rather than a join: every lookup then starts from the teacher's index
    # entries (SQLite's planner without statistics would otherwise scan the year's whole ledger).
    teacher_filter = {"teacher_id__in": chunk_teachers.values("pk")}
    hours = hours_per_teacher(run.year, teacher_filter)
    carry = dict(
        VerificationResult.objects.filter(year=run.year - 1, **teacher_filter).order_by().values_list("teacher_id", "carry_out")
    )
    exempt = set(Exemption.objects.filter(year=run.year, **teacher_filter).values_list("teacher_id", flat=True))
    now = timezone.now()
    stamp = VerificationResult._meta.get_field("computed_at").get_db_prep_save(now, connection)
    empty = (ZERO, ZERO, ZERO)
    year, run_pk = run.year, run.pk
    rows = []
    for teacher_id, school_id in teachers:
        public, professional_own, elective = hours.get(teacher_id, empty)
        v = compute(
            m,
            public=public,
            professional_own=professional_own,
            elective=elective,
            carry_in=carry.get(teacher_id) or ZERO,
            exempt=teacher_id in exempt,
        )
        # UPSERT_FIELDS order: teacher, year, then RESULT_FIELDS
        rows.append((teacher_id, year, run_pk, school_id, *[v[f] for f in VALUE_FIELDS], stamp))
    _upsert_results(rows)
    VerificationRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
    return len(rows)


def chunks_for(school_sizes: list[tuple[int, int]], limit: int = CHUNK_TEACHERS) -> list[list[int]]:
    """Group schools (id, active teachers) into chunks of at most `limit` teachers (a big school stays whole)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for school_id, n in school_sizes:
        if current and size + n > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(school_id)
        size += n
    if current:
        chunks.append(current)
    return chunks
