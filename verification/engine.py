"""The verification engine: SPEC §5's arithmetic, and the set-based chunk job that applies it.

`compute` is the rule for one teacher, a pure function. `verify_chunk` applies it to every
active teacher of a group of schools with a fixed handful of queries — one aggregate over
the ledger per category kind, one for last year's carry-out, one for exemptions, one bulk
upsert — never a query per teacher.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils import timezone

from accounts.models import Teacher, TeacherStatus
from hours.models import Category, LedgerEntry, Source

from .models import CarryRule, Exemption, ResultStatus, RunStatus, VerificationResult, VerificationRun, YearPolicy

ZERO = Decimal("0")
CHUNK_TEACHERS = 5000
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


def compute(m: Minimums, *, public: Decimal, professional_own: Decimal, elective: Decimal, carry_in: Decimal, exempt: bool = False) -> dict:
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
    return LedgerEntry.objects.filter(year=year, revokes__isnull=True, revoked_by__isnull=True).exclude(source=Source.CARRY_OVER)


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
    )
    for row in rows:
        topics[row["teacher_id"]].append((row["title"], row["m"]))
    return topics


def verify_chunk(run_id: int, school_ids: list[int]) -> int:
    """Compute and upsert the results of every active teacher of `school_ids` for the run's year.

    Idempotent: re-delivering the same chunk rewrites the same rows. Returns the number of results.
    """
    run = VerificationRun.objects.get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return 0
    policy = YearPolicy.objects.get(year=run.year)
    m = Minimums.of(policy)
    teachers = list(
        Teacher.objects.filter(school_id__in=school_ids, status=TeacherStatus.ACTIVE).values_list("pk", "school_id")
    )
    if not teachers:
        return 0
    teacher_filter = {"teacher__school_id__in": school_ids, "teacher__status": TeacherStatus.ACTIVE}
    hours = hours_by_teacher(run.year, teacher_filter)
    carry = dict(
        VerificationResult.objects.filter(year=run.year - 1, **teacher_filter).values_list("teacher_id", "carry_out")
    )
    exempt = set(Exemption.objects.filter(year=run.year, **teacher_filter).values_list("teacher_id", flat=True))
    now = timezone.now()
    empty = {c: ZERO for c in Category.values}
    results = []
    for teacher_id, school_id in teachers:
        h = hours.get(teacher_id, empty)
        values = compute(
            m,
            public=h[Category.PUBLIC],
            professional_own=h[Category.PROFESSIONAL],
            elective=h[Category.ELECTIVE],
            carry_in=carry.get(teacher_id) or ZERO,
            exempt=teacher_id in exempt,
        )
        results.append(VerificationResult(teacher_id=teacher_id, year=run.year, run_id=run.pk, school_id=school_id, computed_at=now, **values))
    VerificationResult.objects.bulk_create(
        results,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["teacher", "year"],
        update_fields=RESULT_FIELDS,
    )
    VerificationRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
    return len(results)


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
