"""Who may see what. Every page, export and API endpoint reads through these.

Scope follows the role the user is acting in (a user may hold several): a teacher
sees their own record, a school role its school, a district role the district's
subtree, the city admin the city's subtree. Out-of-scope objects are simply absent,
so a detail lookup through these querysets answers 404.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, Exists, F, Func, Model, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.utils import timezone

from cpd import batch

from .models import ROLE_PRIORITY, Organisation, OrgKind, Role, RoleKind, RosterConfirmation, RosterImport, Teacher, TeacherStatus
from .permissions import role_is

_M = TypeVar("_M", bound=Model)

SCHOOL_ROLES = (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL)
AREA_ROLES = (RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN, RoleKind.PROVINCE_ADMIN)


def roles_of(user: Any) -> list[Role]:
    if not getattr(user, "is_authenticated", False):
        return []
    roles = list(Role.objects.filter(user=user).select_related("organisation"))
    roles.sort(key=lambda r: (ROLE_PRIORITY.index(r.kind), r.organisation.code))
    return roles


def resolve_role(user: Any, requested_id: int | str | None = None) -> Role | None:
    """The role `user` acts in: the requested one if it is theirs, else their first."""
    return pick_role(roles_of(user), requested_id)


def pick_role(roles: list[Role], requested_id: int | str | None = None) -> Role | None:
    if requested_id not in (None, ""):
        for role in roles:
            if str(role.pk) == str(requested_id):
                return role
    return roles[0] if roles else None


def organisations_visible_to(role: Role | None) -> QuerySet[Organisation]:
    if role is None:
        return Organisation.objects.none()
    org = role.organisation
    if role.kind in AREA_ROLES:
        return Organisation.objects.filter(path__startswith=org.path)
    return Organisation.objects.filter(pk=org.pk)


def schools_visible_to(role: Role | None) -> QuerySet[Organisation]:
    return organisations_visible_to(role).filter(kind=OrgKind.SCHOOL)


def teachers_visible_to(role: Role | None) -> QuerySet[Teacher]:
    if role is None:
        return Teacher.objects.none()
    qs = Teacher.objects.select_related("school", "school__parent")
    if role.kind == RoleKind.TEACHER:
        return qs.filter(user_id=role.user_id)
    if role.kind in SCHOOL_ROLES:
        return qs.filter(school_id=role.organisation_id)
    if role.kind in AREA_ROLES:
        return qs.filter(school__path__startswith=role.organisation.path)
    return qs.none()


class _NameMatches(Func):
    """PostgreSQL's name search, in one condition on `<name>` for the query `q` (migration accounts 0006):

        STRPOS(UPPER(<name>), UPPER(q)) <> 0
        AND cpd_name_grams(<name>) @> <the grams that q's match must hold>

    The first decides, exactly as `icontains` (`UPPER(<name>) LIKE UPPER('%q%')`) does, and costs little;
    the planner takes it as holding for nearly every row (an inequality it has no statistics for), so it
    does not distort the estimate. The second is the name index's condition and gives the estimate, from
    the index's statistics of how common the grams are. The grams asked for: `q` itself, upper-cased,
    when that is one character or two (a name holds the pair "AB" exactly where it holds "AB"; asking for
    "A", "B" and "AB" would multiply their frequencies as if independent); otherwise every character and
    pair of `q` (`cpd_name_grams(q)`; such names are rare and the index's candidates are the right plan).
    The CASE is folded to a constant array when the statement is planned.
    """

    output_field = BooleanField()

    def as_sql(  # type: ignore[override]  # one fixed shape: no function, template or joiner to take
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        name_sql, name_params = compiler.compile(self.source_expressions[0])
        q_sql, q_params = compiler.compile(self.source_expressions[1])
        sql = (
            f"(STRPOS(UPPER({name_sql}::text), UPPER({q_sql})) <> 0 AND cpd_name_grams({name_sql}) @> "
            f"CASE WHEN char_length(UPPER({q_sql})) <= 2 THEN ARRAY[UPPER({q_sql})] ELSE cpd_name_grams({q_sql}) END)"
        )
        return sql, [*name_params, *q_params, *name_params, *q_params, *q_params, *q_params]


def name_contains(q: str, field: str = "name") -> Q:
    """Teachers (or rows by `field`, e.g. "teacher__name") whose name contains `q`, in any case.

    On SQLite, `icontains`. On PostgreSQL the same match, written so that the planner can read the
    name index (a rare name: its few candidates) or walk the list's own index order and keep the
    matches (a common surname such as 王, 2% of the bench's teachers and some 7% in a real city: a
    page in a few thousand rows at most, whatever the size of the city), whichever its statistics say
    is cheaper. Written as `icontains` AND the index's condition, the planner took the two as
    independent, estimated a common surname 25 times too rare, and read and sorted every match in the
    city (1.6 s at 1,500,000 teachers). See `_NameMatches`.
    """
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__icontains": q})
    return Q(_NameMatches(F(field), Value(q, output_field=TextField())))


def roster_imports_visible_to(role: Role | None) -> QuerySet[RosterImport]:
    if role is None or role.kind == RoleKind.TEACHER:
        return RosterImport.objects.none()
    return RosterImport.objects.filter(organisation__in=organisations_visible_to(role))


# Who does what with the roster and the organisations (SPEC §2): school admins keep the roster;
# principals and area admins read it; the city keeps the organisation tree.
ROSTER_MANAGERS = (RoleKind.SCHOOL_ADMIN,)
ROSTER_CONFIRMERS = SCHOOL_ROLES
ROSTER_READERS = (*SCHOOL_ROLES, *AREA_ROLES)
ORGANISATION_MANAGERS = (RoleKind.CITY_ADMIN,)


def can_manage_roster(role: Role | None) -> bool:
    return role_is(role, *ROSTER_MANAGERS)


def can_confirm_roster(role: Role | None) -> bool:
    return role_is(role, *ROSTER_CONFIRMERS)


def can_manage_organisations(role: Role | None) -> bool:
    return role_is(role, *ORGANISATION_MANAGERS)


def can_use_django_admin(user: Any, roles: list[Role] | None = None) -> bool:
    """Superusers and city admins run the Django admin; the role grants it, not the is_staff flag.

    Why: a city admin appointed through a role must be able to use the admin at once, and
    a staff flag left on a school admin must not open it.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    roles = roles_of(user) if roles is None else roles
    return any(r.kind == RoleKind.CITY_ADMIN for r in roles)


def transfer_targets_for(role: Role | None) -> QuerySet[Organisation]:
    """Schools a teacher may be transferred to: any active school of the same city."""
    if role is None:
        return Organisation.objects.none()
    city_path = role.organisation.root_path
    return Organisation.objects.filter(kind=OrgKind.SCHOOL, is_active=True, path__startswith=city_path).exclude(
        pk=role.organisation_id
    )


@dataclass(frozen=True)
class TeacherCount:
    """An organisation's active teachers: exact (`estimated` False), or for a large area the figure stored
    by the daily statistics refresh at `as_of` (`estimated` True: teachers may have come and gone since)."""

    n: int
    estimated: bool = False
    as_of: datetime.datetime | None = None


# {area id: (year, active teachers, when counted)}: the teacher counts stored for areas, handed down by the
# verification app (`verification.apps`: its AreaYearStats, the latest year's), since accounts sits below it.
StoredAreaCounts = Callable[[list[int]], dict[int, tuple[int, int, datetime.datetime]]]
_stored_area_counts: StoredAreaCounts | None = None


def register_stored_area_counts(provider: StoredAreaCounts | None) -> None:
    global _stored_area_counts
    _stored_area_counts = provider


def teacher_counts_of(orgs: list[Organisation]) -> dict[int, TeacherCount]:
    """{organisation id: its active teachers} for a page of organisations, in at most three queries whatever
    their number: each school's exact count (its index entries); an area's exact count when it is small
    (on SQLite always), else the count the statistics stored for it (`verification.AreaYearStats`, the
    latest year's). Counting a city of 1,500,000 teachers exactly took 0.6 s per page."""
    from cpd.pagination import EXACT_COUNT_BELOW

    out = {o.pk: TeacherCount(0) for o in orgs}
    schools = [o.pk for o in orgs if o.kind == OrgKind.SCHOOL]
    if schools:
        per_school = (
            Teacher.objects.filter(status=TeacherStatus.ACTIVE, school_id__in=schools)
            .values_list("school_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "n")
            .order_by()
        )
        out.update({pk: TeacherCount(n) for pk, n in per_school})
    areas = [o for o in orgs if o.kind not in (OrgKind.SCHOOL, OrgKind.PROVIDER)]  # a provider has no teachers
    stored: dict[int, tuple[int, int, datetime.datetime]] = {}
    if areas and connection.vendor == "postgresql" and _stored_area_counts is not None:
        stored = _stored_area_counts([a.pk for a in areas])
    small = [a for a in areas if a.pk not in stored or stored[a.pk][1] < EXACT_COUNT_BELOW]
    if small:
        exact = Teacher.objects.filter(status=TeacherStatus.ACTIVE)
        below = Q()
        for a in small:
            below |= Q(school__path__startswith=a.path)
        figures = exact.filter(below).aggregate(
            **{f"n{a.pk}": Count("pk", filter=Q(school__path__startswith=a.path)) for a in small}
        )
        out.update({a.pk: TeacherCount(figures[f"n{a.pk}"] or 0) for a in small})
    for a in areas:
        if a not in small:
            _year, n, at = stored[a.pk]
            out[a.pk] = TeacherCount(n, estimated=True, as_of=at)
    return out


def last_confirmation() -> Subquery:
    """The date of a school's latest roster confirmation (None if never), for `annotate` on organisations: read
    for the rows asked for only, not grouped over every school in scope."""
    latest = RosterConfirmation.objects.filter(school=OuterRef("pk")).order_by("-confirmed_at").values("confirmed_at")[:1]
    return Subquery(latest)


def schools_with_confirmation(role: Role | None) -> QuerySet[Organisation]:
    """Visible active schools with the date of their latest roster confirmation (`last_confirmed`)."""
    return schools_visible_to(role).filter(is_active=True).annotate(last_confirmed=last_confirmation())


def overdue_cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=settings.ROSTER_CONFIRMATION_MAX_AGE_DAYS)


def not_confirmed_since(cutoff: datetime.datetime) -> Q:
    """Organisations with no roster confirmation since `cutoff` (never confirmed, or last before it): an
    anti-join, where grouping every school's confirmations to compare their latest cost a city's home
    three aggregates over 15,000 schools."""
    return ~Q(Exists(RosterConfirmation.objects.filter(school=OuterRef("pk"), confirmed_at__gte=cutoff)))


def confirmation_overdue(last_confirmed: datetime.datetime | None) -> bool:
    """What `not_confirmed_since(overdue_cutoff())` says of one school whose latest confirmation is already
    read (the school home shows that date anyway: no second statement to ask the same)."""
    return last_confirmed is None or last_confirmed < overdue_cutoff()


def schools_overdue_confirmation(role: Role | None) -> QuerySet[Organisation]:
    """Active schools that have not confirmed their roster in the last six months (annotate
    `last_confirmation()` where the date is shown: building that subquery costs ≈1 ms per queryset)."""
    return schools_visible_to(role).filter(not_confirmed_since(overdue_cutoff()), is_active=True)


# --- an area's roster overview, cached for seconds ---------------------------------------------------------

# How long an area home may show its roster figures (its schools, how many are overdue and which) before
# reading them again. In a city of 15,000 schools each figure was a pass over every school
# (an anti-join against their confirmations, ~4-10 ms at 1,500,000 teachers) on every home page; they change
# when a school confirms its roster, a school is added, moved or closed, or the six-month cutoff passes a
# school's last confirmation. A write in this process drops every overview at once (`roster_overview_forget`,
# on saving or deleting an organisation or a confirmation); another worker's copy may lag by up to this long (the cache is each process's own unless CACHES points at a shared one).
ROSTER_OVERVIEW_SECONDS = 30
_OVERVIEW_GENERATION = "cpd:roster-overview:generation"


@dataclass(frozen=True)
class RosterOverview:
    school_count: int  # active schools
    overdue_count: int  # active schools not confirmed for six months
    overdue_schools: list[Organisation]  # the first 20 of them, with `last_confirmed` and their parent
    overdue_units: list[int]  # a district's: those schools' ids; a city's: the units below it that hold them


def roster_overview(role: Role) -> RosterOverview:
    """The schools' figures of an area role's home (its workspace card and its "late" to-do), read at most
    every `ROSTER_OVERVIEW_SECONDS` per area in each process. (Not its teachers' count: bulk writes of
    teachers, imports and updates, send no signal to drop it.)"""
    generation = cache.get_or_set(_OVERVIEW_GENERATION, 0, None)
    key = f"cpd:roster-overview:{generation}:{role.kind}:{role.organisation_id}"
    hit = cache.get(key)
    if isinstance(hit, RosterOverview):
        return hit
    overdue = schools_overdue_confirmation(role)
    school_count, overdue_count = batch.fetch(
        [batch.count(schools_visible_to(role).filter(is_active=True)), batch.count(overdue)]
    )
    if role.kind == RoleKind.DISTRICT_ADMIN:
        units = list(overdue.order_by("pk").values_list("pk", flat=True))
    else:  # the city's units are districts: the parents of overdue schools
        units = list(overdue.order_by("parent_id").values_list("parent_id", flat=True).distinct())
    overview = RosterOverview(
        school_count=school_count,
        overdue_count=overdue_count,
        overdue_schools=list(overdue.annotate(last_confirmed=last_confirmation()).select_related("parent")[:20]),
        overdue_units=units,
    )
    cache.set(key, overview, ROSTER_OVERVIEW_SECONDS)
    return overview


def roster_overview_forget(**_kwargs: Any) -> None:
    """Drop every cached overview of this process (a signal receiver: accounts.apps)."""
    try:
        cache.incr(_OVERVIEW_GENERATION)
    except ValueError:  # not set yet: nothing cached under it
        pass


def scope_by_teacher(qs: QuerySet[_M], role: Role | None, *, teacher: str = "teacher", school: str | None = None) -> QuerySet[_M]:
    """Restrict `qs` (objects that belong to a teacher) to what `role` may see — the one rule behind
    every `*_visible_to` of teacher-owned objects: a teacher their own, a school role its school's,
    an area role its subtree's, anyone else nothing.

    `teacher` is the lookup path to the owning Teacher; `school` the path to the school that scopes
    the object (default: the teacher's current school; results are scoped by the school they were
    verified at).
    """
    if role is None:
        return qs.none()
    school = school or f"{teacher}__school"
    if role.kind == RoleKind.TEACHER:
        return qs.filter(**{f"{teacher}__user_id": role.user_id})
    if role.kind in SCHOOL_ROLES:
        return qs.filter(**{f"{school}_id": role.organisation_id})
    if role.kind in AREA_ROLES:
        return qs.filter(**{f"{school}__path__startswith": role.organisation.path})
    return qs.none()


def deployment_city() -> Organisation:
    """The city this deployment serves (the first city-level organisation): the scope of a city-wide job
    started from the shell or by the scheduler, where there is no acting role."""
    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    if city is None:
        raise Organisation.DoesNotExist("This deployment has no city yet.")
    return city


def issuing_authority(school: Organisation) -> str:
    """The city education bureau a school belongs to: who issues transcripts and certificates
    (settings.CPD_ISSUING_AUTHORITY overrides it)."""
    from django.conf import settings

    configured = getattr(settings, "CPD_ISSUING_AUTHORITY", "")
    if configured:
        return str(configured)
    city = school.city()
    return f"{city.name}教育局" if city else "教育局"
