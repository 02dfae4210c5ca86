"""What counts in the hours bank (SPEC §3, §5, §9): the one counting rule every hours figure comes from.

The verification engine, the teacher's pages, the review queues, the roster, statistics, exports and the
API all take their hours from here; nothing else sums ledger hours.

The rule, for one teacher and year:
- revoked entries and the entries that revoke them are left out (a correction nets out to nothing);
- the carry-over entries that finalising last year wrote into this year are left out: the carry-in is
  last year's verified carry-out, supplied by the verification app (`register_carry_in`);
- each public topic (its title) counts once, with its largest entry;
- professional = carry-in + this year's own professional hours; total = public + professional + elective.

Carry-in is the one figure this app cannot compute: it is the `carry_out` of last year's verification
result, a table of the verification app, which sits above `hours` in the import order. The verification
app registers a provider when it starts (`verification.apps`); without one (a deployment without the
annual regime) the carry-in is zero.

This module also holds the only code that creates ledger rows (`entry_create`, `entries_create_many`,
`entry_revoke`, at the end), and the five-year cycle's counting (`cycle_figures`). docs/rules.md maps
every rule to the function that applies it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BigIntegerField, Case, Exists, ExpressionWrapper, F, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cpd.errors import StateConflict

from .models import Category, Declaration, DeclarationState, LedgerEntry, Source, Year

ZERO = Decimal("0")
TENTH = Decimal("0.1")

# The states of a declaration that may still become hours: shown beside the counted figures, never added in.
PENDING_STATES = (DeclarationState.SUBMITTED, DeclarationState.SCHOOL_APPROVED)

TeacherIds = Iterable[int] | QuerySet
CarryInProvider = Callable[[int, TeacherIds], dict[int, Decimal]]
_carry_in_provider: CarryInProvider | None = None


def _tenth(value: Decimal | float | int | None) -> Decimal:
    return Decimal(str(value or 0)).quantize(TENTH)


@dataclass(frozen=True)
class YearFigures:
    """What the annual rule counts for one teacher and year, each figure to one decimal."""

    teacher_id: int
    year: int
    public: Decimal = ZERO
    professional_own: Decimal = ZERO
    carry_in: Decimal = ZERO
    elective: Decimal = ZERO

    @property
    def professional(self) -> Decimal:
        """Carried-in hours count as this year's professional hours (SPEC §5)."""
        return self.carry_in + self.professional_own

    @property
    def total(self) -> Decimal:
        return self.public + self.professional + self.elective

    def by_category(self) -> dict[str, Decimal]:
        """{public, professional, elective, total}: the keys of a policy's `minimums()`."""
        return {
            Category.PUBLIC.value: self.public,
            Category.PROFESSIONAL.value: self.professional,
            Category.ELECTIVE.value: self.elective,
            "total": self.total,
        }


# --- carry-in ---------------------------------------------------------------------------------------


def register_carry_in(provider: CarryInProvider | None) -> None:
    """Install the function giving {teacher id: carry-in hours} for (year, teacher ids); the verification
    app registers the one that reads last year's results, the same column its engine reads."""
    global _carry_in_provider
    _carry_in_provider = provider


def carry_in(*, year: int, teacher_ids: TeacherIds) -> dict[int, Decimal]:
    """{teacher id: hours carried into `year`} (teachers with none are absent)."""
    if _carry_in_provider is None:
        return {}
    return {tid: _tenth(h) for tid, h in _carry_in_provider(year, teacher_ids).items() if h}


# --- the counting rule ---------------------------------------------------------------------------------


def counted_entries(year: int | None) -> QuerySet[LedgerEntry]:
    """The ledger entries that count for `year` (None: of every year, for the cycle regime): corrections net
    out by leaving out both the revoked entry and the entry that revokes it; carry-over entries are left out
    (the carry-in comes from `carry_in`)."""
    revoked = Exists(LedgerEntry.objects.filter(revokes=OuterRef("pk")))  # NOT EXISTS: an anti-join, not an outer join
    entries = LedgerEntry.objects.filter(~revoked)
    if year is not None:
        entries = entries.filter(year=year)
    entries = entries.exclude(source=Source.CARRY_OVER)
    if connection.vendor == "sqlite":
        # Without ANALYZE statistics SQLite takes `revokes_id IS NULL` for a one-row lookup in that
        # column's unique index and reads the whole ledger through it, whatever else is filtered
        # (a full scan per verification chunk or export batch). `revokes_id + 0` means the same and
        # is no index candidate, so the (teacher, year, category) index is used.
        revokes = ExpressionWrapper(F("revokes_id") + 0, output_field=BigIntegerField())
        return entries.alias(_revokes=revokes).filter(_revokes__isnull=True)
    return entries.filter(revokes__isnull=True)


def per_key_hours(
    year: int, teacher_ids: TeacherIds | None, *, id_range: tuple[int | None, int | None] | None = None
) -> QuerySet:
    """One row (teacher_id, category, h) per teacher, category and public topic: a public topic's largest
    entry, the sum of the other categories. The SQL building block the engine's chunk statement and
    `year_figures` share; summing `h` per teacher and category gives the counted hours.

    `id_range` (lo, hi), either end None for open: only teachers with lo <= id < hi. It changes nothing
    in what counts; it lets the database read the entries of a block of teachers by one range scan of
    the (teacher, …) index instead of one probe per teacher. `teacher_ids` None: every teacher of the
    range (the caller keeps the ones it wants)."""
    if teacher_ids is None and id_range is None:
        raise ValueError("per_key_hours needs teacher_ids or id_range")
    entries = counted_entries(year)
    if id_range is not None:
        lo, hi = id_range
        if lo is not None:
            entries = entries.filter(teacher_id__gte=lo)
        if hi is not None:
            entries = entries.filter(teacher_id__lt=hi)
    if teacher_ids is not None:
        # `teacher_id IN (…)` rather than a join: every lookup starts from the teacher's index entries
        entries = entries.filter(teacher_id__in=teacher_ids)
    return (
        entries.values("teacher_id", "category", topic=Case(When(category=Category.PUBLIC, then=F("title")), default=Value("")))
        .annotate(h=Case(When(category=Category.PUBLIC, then=Max("hours")), default=Sum("hours")))
        .values("teacher_id", "category", "h")
        .order_by()
    )


def _subject(teacher_ids: TeacherIds) -> tuple[list[int], QuerySet | list[int]]:
    """(the ids, what to filter `teacher_id__in` by): a queryset stays a subquery, other iterables a list."""
    if isinstance(teacher_ids, QuerySet):
        if teacher_ids._iterable_class.__name__ == "ModelIterable":
            return list(teacher_ids.values_list("pk", flat=True)), teacher_ids.values("pk")
        return [next(iter(row.values())) if isinstance(row, dict) else row for row in teacher_ids], teacher_ids
    ids = list(dict.fromkeys(int(t) for t in teacher_ids))
    return ids, ids


def year_figures(*, year: int, teacher_ids: TeacherIds) -> dict[int, YearFigures]:
    """{teacher id: YearFigures} for every teacher asked for (zeros for one without hours).

    A fixed number of queries whatever the number of teachers: the ids when given as a queryset (teachers,
    `values("pk")` or `values_list("pk", flat=True)`, then also used as a subquery), the counted hours
    per key, and the carry-in.
    """
    ids, subject = _subject(teacher_ids)
    if not ids:
        return {}
    sums: dict[int, dict[str, Decimal]] = {tid: {c: ZERO for c in Category.values} for tid in ids}
    for row in per_key_hours(year, subject):
        bucket = sums.get(row["teacher_id"])
        if bucket is not None:
            bucket[row["category"]] += row["h"] or ZERO
    carried = carry_in(year=year, teacher_ids=subject)
    return {
        tid: YearFigures(
            teacher_id=tid,
            year=year,
            public=_tenth(s[Category.PUBLIC]),
            professional_own=_tenth(s[Category.PROFESSIONAL]),
            carry_in=carried.get(tid, ZERO),
            elective=_tenth(s[Category.ELECTIVE]),
        )
        for tid, s in sums.items()
    }


def teacher_year_figures(*, teacher_id: int, year: int) -> YearFigures:
    return year_figures(year=year, teacher_ids=[teacher_id])[teacher_id]


def public_topics(*, year: int, teacher_ids: TeacherIds) -> dict[int, list[tuple[str, Decimal]]]:
    """{teacher id: [(topic, hours)]} of the public subjects that count (each topic once, its largest entry),
    in one query."""
    topics: dict[int, list[tuple[str, Decimal]]] = {}
    rows = (
        counted_entries(year)
        .filter(teacher_id__in=teacher_ids, category=Category.PUBLIC)
        .values("teacher_id", "title")
        .annotate(m=Max("hours"))
        .order_by("teacher_id", "title")
        .values_list("teacher_id", "title", "m")
    )
    for teacher_id, title, hours in rows:
        topics.setdefault(teacher_id, []).append((title, _tenth(hours)))
    return topics


def counted_entry_ids(*, year: int, teacher_id: int) -> set[int]:
    """The ids of one teacher's entries that count for `year` (a public topic's other entries are not among
    them): lets a page mark what it lists but does not count."""
    return counted_entry_ids_of(year=year, teacher_ids=[teacher_id]).get(teacher_id, set())


def counted_entry_ids_of(*, year: int, teacher_ids: TeacherIds) -> dict[int, set[int]]:
    """`counted_entry_ids` of many teachers in one query: {teacher id: ids} (a teacher with none is absent)."""
    counted: dict[int, set[int]] = {}
    best: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for teacher_id, pk, category, title, hours in (
        counted_entries(year)
        .filter(teacher_id__in=teacher_ids)
        .order_by("teacher_id", "pk")
        .values_list("teacher_id", "pk", "category", "title", "hours")
    ):
        if category != Category.PUBLIC:
            counted.setdefault(teacher_id, set()).add(pk)
        elif (teacher_id, title) not in best or hours > best[(teacher_id, title)][0]:
            best[(teacher_id, title)] = (hours, pk)
    for (teacher_id, _title), (_hours, pk) in best.items():
        counted.setdefault(teacher_id, set()).add(pk)
    return counted


def pending_hours(*, year: int, teacher_ids: TeacherIds) -> dict[int, dict[str, Decimal]]:
    """{teacher id: {category…, "total": hours}} declared and waiting for review (submitted or school-approved):
    shown beside the counted figures, never added in. Every teacher asked for is present (zeros)."""
    ids, subject = _subject(teacher_ids)
    out = {tid: {**{c: ZERO for c in Category.values}, "total": ZERO} for tid in ids}
    rows = (
        Declaration.objects.filter(year=year, teacher_id__in=subject, state__in=PENDING_STATES)
        .values("teacher_id", "category")
        .annotate(s=Sum("hours"))
        .order_by()
    )
    for row in rows:
        bucket = out.get(row["teacher_id"])
        if bucket is not None:
            bucket[row["category"]] += _tenth(row["s"])
            bucket["total"] += _tenth(row["s"])
    return out


# --- the five-year cycle (SPEC §7) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CycleBounds:
    """A teacher's cycle as plain values: entries dated in [start, end) count, except those recorded up to
    `opened_at`, the moment the certificate that opened this cycle was issued (they counted for it)."""

    start: datetime.date
    end: datetime.date
    opened_at: datetime.datetime | None = None


@dataclass(frozen=True)
class CycleFigures:
    teacher_id: int
    total: Decimal = ZERO
    school_based: Decimal = ZERO
    new_teacher: Decimal = ZERO


def cycle_figures(*, bounds: dict[int, CycleBounds], teacher_ids: TeacherIds | None = None) -> dict[int, CycleFigures]:
    """{teacher id: CycleFigures} for the cycles given, in one query over the ledger.

    What counts is the annual rule's `counted_entries` (revocations out, carry-over out) dated inside the
    cycle (the training's end date, or the day it was recorded when it has none), and each public topic
    once a year, with its largest entry. `teacher_ids` (a queryset of the same teachers) may stand in for
    the ids in the SQL when there are many.
    """
    if not bounds:
        return {}
    earliest = min(b.start for b in bounds.values())  # earlier entries belong to past cycles
    rows = (
        counted_entries(None)
        .filter(teacher_id__in=teacher_ids if teacher_ids is not None else list(bounds))
        .filter(Q(end_date__gte=earliest) | Q(end_date__isnull=True, created_at__gte=_day_start(earliest)))
        .order_by()
        .values_list("teacher_id", "year", "category", "title", "hours", "school_based", "new_teacher", "end_date", "created_at")
    )
    sums: dict[int, list[Decimal]] = {}
    public: dict[tuple[int, int, str], tuple[Decimal, bool, bool]] = {}
    for teacher_id, year, category, title, hours, school_based, new_teacher, end_date, created_at in rows.iterator(
        chunk_size=5000
    ):
        b = bounds.get(teacher_id)
        if b is None:
            continue
        day = end_date or timezone.localdate(created_at)
        if not (b.start <= day < b.end) or (b.opened_at is not None and created_at <= b.opened_at):
            continue
        if category == Category.PUBLIC:
            key = (teacher_id, year, title)
            if key not in public or hours > public[key][0]:
                public[key] = (hours, school_based, new_teacher)
            continue
        _add(sums, teacher_id, hours, school_based, new_teacher)
    for (teacher_id, _year, _title), (hours, school_based, new_teacher) in public.items():
        _add(sums, teacher_id, hours, school_based, new_teacher)
    return {tid: CycleFigures(tid, *(_tenth(v) for v in sums.get(tid, (ZERO, ZERO, ZERO)))) for tid in bounds}


def _add(sums: dict[int, list[Decimal]], teacher_id: int, hours: Decimal, school_based: bool, new_teacher: bool) -> None:
    acc = sums.setdefault(teacher_id, [ZERO, ZERO, ZERO])
    acc[0] += hours
    if school_based:
        acc[1] += hours
    if new_teacher:
        acc[2] += hours


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def cycle_entries(*, teacher_id: int, bounds: CycleBounds) -> QuerySet[LedgerEntry]:
    """One teacher's counted entries dated inside the cycle, for listing (the figures are `cycle_figures`)."""
    day = Q(end_date__isnull=False, end_date__gte=bounds.start, end_date__lt=bounds.end) | Q(
        end_date__isnull=True, created_at__gte=_day_start(bounds.start), created_at__lt=_day_start(bounds.end)
    )
    entries = counted_entries(None).filter(day, teacher_id=teacher_id)
    if bounds.opened_at is not None:
        entries = entries.filter(created_at__gt=bounds.opened_at)
    return entries


# --- the regime's summary on the hours pages ----------------------------------------------------------------

PeriodSummary = Callable[[Any], dict[str, Any] | None]
_period_summary: PeriodSummary | None = None


def register_period_summary(provider: PeriodSummary | None) -> None:
    """In the cycle regime the cycle app installs what 我的学时 shows instead of the annual figures:
    provider(teacher) -> {"template": include to render, **its context} (hours cannot import it)."""
    global _period_summary
    _period_summary = provider


def period_summary(teacher) -> dict | None:
    return _period_summary(teacher) if _period_summary is not None else None


# --- the one ledger writer ------------------------------------------------------------------------------------
#
# Every LedgerEntry row is created here and nowhere else (tests/hours/test_ledger_writer.py fails otherwise):
# declaration approval, registration, hours imports, the provincial import, online courses, points payment,
# finalisation's carry-over, corrections and revocations, demo data. The year lock and the source reference
# are checked here once, for single entries and batches alike.

# Sources whose entries must name what produced them (`source_ref`, unique): the same thing never puts hours
# in the bank twice.
REFERENCED_SOURCES = {
    Source.DECLARATION,
    Source.ONLINE_COURSE,
    Source.PROVINCIAL_IMPORT,
    Source.POINTS_EXCHANGE,
    Source.CARRY_OVER,
}
ENTRY_FIELDS = {f.attname for f in LedgerEntry._meta.concrete_fields} - {"id"}


class DuplicateSource(StateConflict):
    """An entry with this source reference exists already (`existing`)."""

    def __init__(self, message, existing: LedgerEntry | None = None):
        super().__init__(message)
        self.existing = existing


def _check_row(row: dict, *, correction: bool) -> None:
    """What every entry must satisfy whoever writes it (programming errors raise ValueError)."""
    unknown = set(row) - ENTRY_FIELDS
    if unknown:
        raise ValueError(f"not ledger entry fields: {sorted(unknown)}")
    for name in ("teacher_id", "year", "category", "hours", "source", "title"):
        if row.get(name) in (None, ""):
            raise ValueError(f"a ledger entry needs {name}")
    source, ref = row["source"], row.get("source_ref")
    if source in REFERENCED_SOURCES and not ref:
        raise ValueError(f"a {source} entry needs its source reference")
    if source == Source.DECLARATION and ref != f"declaration:{row.get('declaration_id')}":
        raise ValueError("a declaration's entry is referenced as declaration:<its id>")
    if row.get("revokes_id") is not None and (source != Source.CORRECTION or ref != f"revoke:{row['revokes_id']}"):
        raise ValueError("a revoking entry is a correction referenced as revoke:<revoked id>")
    if (correction or source == Source.CORRECTION) and not (row.get("reason") or "").strip():
        raise ValidationError({"reason": _("更正必须填写原因。")})


def _check_years_open(years: set[int], *, correction: bool) -> None:
    """A locked year takes no new entry, except a correction with a reason (the city admin's, or one made
    through a complaint: `verification.services.complaint_correct`)."""
    for year in years:
        if year not in Year.SUPPORTED:
            bounds = {"first": Year.SUPPORTED[0], "last": Year.SUPPORTED[-1]}
            raise ValidationError({"year": _("年度须在%(first)s至%(last)s之间。") % bounds})
    if correction:
        return
    locked = sorted(Year.objects.filter(year__in=years, locked_at__isnull=False).values_list("year", flat=True))
    if locked:
        raise StateConflict(_("%(year)s年度的数据已锁定，不能再增加学时。") % {"year": "、".join(map(str, locked))})


def _row(**fields) -> dict:
    """Model instances → ids, text cut to the columns' length, so single and batch rows look the same."""
    row = {}
    for name, value in fields.items():
        if name in ("teacher", "declaration", "project", "revokes", "actor"):
            row[f"{name}_id"] = value.pk if value is not None else None
        else:
            row[name] = value
    for name in ("title", "organiser"):
        if row.get(name):
            row[name] = str(row[name])[:200]
    return row


def entry_create(
    *,
    teacher,
    year: int,
    category: str,
    hours: Decimal,
    source: str,
    title: str,
    organiser: str = "",
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
    certificate_number: str = "",
    declaration=None,
    source_ref: str | None = None,
    project=None,
    school_based: bool = False,
    new_teacher: bool = False,
    actor=None,
    reason: str = "",
    correction: bool = False,
    year_open: bool = False,
) -> LedgerEntry:
    """Append one entry. A locked year refuses it unless `correction` (the city's or a complaint's, with a reason); an
    entry whose source reference exists already is refused (`DuplicateSource`, carrying the first entry).

    `year_open`: the caller has read the year in this transaction and refused a locked one (a final approval
    checks the year's district deadline, which refuses a locked year): the year is not read again."""
    row = _row(
        teacher=teacher,
        year=year,
        category=category,
        hours=hours,
        source=source,
        title=title,
        organiser=organiser,
        start_date=start_date,
        end_date=end_date,
        certificate_number=certificate_number,
        declaration=declaration,
        source_ref=source_ref,
        project=project,
        school_based=school_based,
        new_teacher=new_teacher,
        actor=actor,
        reason=reason,
    )
    return _create_one(row, correction=correction, year_open=year_open)


def _create_one(row: dict, *, correction: bool, year_open: bool = False) -> LedgerEntry:
    _check_row(row, correction=correction)
    if not year_open:
        _check_years_open({row["year"]}, correction=correction)
    ref = row.get("source_ref")
    if ref:
        existing = LedgerEntry.objects.filter(source_ref=ref).first()
        if existing is not None:
            raise DuplicateSource(_("该学时已记入，不能重复记入。"), existing)
    entry = LedgerEntry(**row)
    # The related rows are the callers' own (ids they hold; the foreign keys check them at the insert): not read
    # one by one here.
    entry.full_clean(exclude=["revokes", "declaration", "teacher", "project", "actor"], validate_unique=False)
    entry.save(force_insert=True)
    return entry


def entries_create_many(rows: Iterable[dict], *, skip_existing: bool = False, batch_size: int = 2000) -> int:
    """Append many entries (rows of LedgerEntry field values, `teacher_id`-style or instances), in batches.

    Checked once for the whole batch: every row's fields and source reference, and that none of its years is
    locked. A reference already in the ledger refuses the batch, or with `skip_existing` leaves that row out.
    Returns the number of entries written. Call inside the caller's transaction.
    """
    rows = [_row(**r) for r in rows]
    if not rows:
        return 0
    for row in rows:
        _check_row(row, correction=False)
    _check_years_open({row["year"] for row in rows}, correction=False)
    refs = [row["source_ref"] for row in rows if row.get("source_ref")]
    if len(refs) != len(set(refs)):
        raise ValueError("the same source reference twice in one batch")
    existing: set[str | None] = set()
    for i in range(0, len(refs), 5000):
        existing.update(LedgerEntry.objects.filter(source_ref__in=refs[i : i + 5000]).values_list("source_ref", flat=True))
    if existing and not skip_existing:
        raise DuplicateSource(_("该学时已记入，不能重复记入。"))
    now = timezone.now()
    entries = [LedgerEntry(**{"created_at": now, **row}) for row in rows if row.get("source_ref") not in existing]
    LedgerEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)


def entry_revoke(
    *, entry: LedgerEntry, actor, reason: str, project=None, correction: bool = False, already: str | None = None
) -> LedgerEntry:
    """Revoke an entry: a new entry with the opposite hours pointing at it (entries are never edited). Both
    then drop out of every figure. Locks the entry; refuses a revoking entry and one already revoked (with the
    caller's wording `already`). A locked year refuses it unless `correction` (the city's or a complaint's)."""
    original = LedgerEntry.objects.select_for_update().get(pk=entry.pk)
    if original.revokes_id is not None:
        raise StateConflict(_("更正记录本身不能再被撤销。"))
    if LedgerEntry.objects.filter(revokes=original).exists():
        raise StateConflict(already or _("该记录已被撤销。"))
    row = _row(
        teacher_id=original.teacher_id,
        year=original.year,
        category=original.category,
        hours=-original.hours,
        source=Source.CORRECTION,
        title=original.title,
        organiser=original.organiser,
        source_ref=f"revoke:{original.pk}",
        revokes_id=original.pk,
        project_id=project.pk if project is not None else original.project_id,
        school_based=original.school_based,
        new_teacher=original.new_teacher,
        actor=actor,
        reason=(reason or "").strip(),
    )
    return _create_one(row, correction=correction)
