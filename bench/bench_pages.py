"""Page benchmark: every long list and the statistics page under load, against `/api/v1/me/` as the ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_scale_bench .venv/bin/python bench/bench_pages.py --teachers 200000
    # the same endpoints served by another checkout too (e.g. main before a change), alternated in one run:
    ... bench/bench_pages.py --teachers 200000 --before /tmp/cpd-before --before-database postgres://…/cpd_scale_before

What it does:
  1. generates the data set (bench/datagen.py: N teachers, ~12 ledger entries each, last year's
     results) plus about 2.5 declarations per teacher (half approved, the rest waiting at the school
     or the district) with one SQL statement, then VACUUM ANALYZE;
  2. creates one user per role it drives (city, district, school admin, a teacher) with a session
     cookie and an API token;
  3. serves the code with gunicorn (2 sync workers, DEBUG off, a free port on 127.0.0.1);
  4. drives each endpoint with a bounded load generator (threads + http.client keep-alive, concurrency
     4, a fixed number of seconds), alternating the servers (after, before, after, before …) and
     prints p50/p95/p99, throughput and the share of the ceiling's throughput measured in the same
     round, plus the SQL query count of each page (measured in-process with the test client).

Beyond the lists (issue 14, "every page"): single objects (`single_endpoints`), downloads and the
requests that start an export job (`download_endpoints`; kind `api_post`: a POST served by a second
server with a Redis broker of its own, so the request queues the job as in production; `--jobs`
builds each export job anew in this process and prints its time), and the cycle regime
(`cycle_endpoints`, names "cycle: …": a child process with CPD_REGIME=cycle makes the cycle tables and
rows on the same database and counts their statements; a third server with CPD_REGIME=cycle serves
them). `--skip 'a|b'` leaves endpoints out by name.

A deep page is the list's 80% point: a keyset cursor for this code, `?page=` for a checkout that
still pages by OFFSET (`--before`). PostgreSQL only (SQLite cannot serve two gunicorn workers
writing sessions at this size in a meaningful way); the database named by DATABASE_URL is dropped
and recreated unless `--reuse`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen

ROOT = Path(__file__).resolve().parent.parent
YEAR = datagen.YEAR  # the ledger's year; results exist for YEAR - 1


# --- data -----------------------------------------------------------------------------------------------------


DECLARATIONS_SQL = """
INSERT INTO hours_declaration (teacher_id, year, category, activity_type, title, organiser, start_date, end_date,
    hours, certificate_number, certificate_in_chinese, certificate_states_hours, state, duplicate_flags, last_reason,
    created_at, updated_at, submitted_at{district_column})
SELECT t.id, {year}, CASE WHEN k.k = 1 THEN 'professional' ELSE 'elective' END, 'training',
       '外出培训 ' || k.k, '省教育厅', DATE '{year}-03-01', DATE '{year}-03-02', 6.0,
       'CERT-' || t.id || '-' || k.k, TRUE, TRUE,
       CASE WHEN k.k = 1 THEN 'approved' WHEN t.id % 7 = 0 THEN 'school_approved' WHEN t.id % 5 = 0 THEN 'submitted'
            ELSE 'approved' END,
       '[]', '', TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute' + k.k * INTERVAL '1 second',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute'{district_value}
FROM accounts_teacher t JOIN accounts_organisation s ON s.id = t.school_id CROSS JOIN (VALUES (1), (2), (3)) AS k(k)
WHERE k.k < 3 OR t.id % 2 = 0
"""


def declarations_sql(cur, year: int) -> str:
    """DECLARATIONS_SQL for the schema at hand: the declaration's school and district (hours 0008) where it has them, so
    that a checkout from before it (`--before`) generates its own data set with the same script."""
    from django.db import connection

    columns = {c.name for c in connection.introspection.get_table_description(cur, "hours_declaration")}
    has = "district_id" in columns
    return DECLARATIONS_SQL.format(
        year=year,
        district_column=", school_id, district_id" if has else "",
        district_value=", s.id, s.parent_id" if has else "",
    )


def load(url: str, teachers: int) -> dict:
    """Migrate, generate, add declarations, analyze (in this process: Django is set up on `url`)."""
    datagen.migrate(url)
    counts = datagen.generate(teachers)
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(declarations_sql(cur, YEAR))
        counts["declarations"] = cur.rowcount
        cur.execute("VACUUM (ANALYZE) hours_declaration")  # as autovacuum would: index-only counts
    print(f"  {counts['declarations']:,} declarations in {time.perf_counter() - t:.1f} s", flush=True)
    return counts


# What the lesser lists read: notices and result complaints, exports, the audit log, training projects and
# enrolments, points exchange requests, the personas' notifications. Set-based, once per database (a marker
# row each); the personas' own rows (exports carry the role, notifications the user) once per persona.
EXTRAS_SQL = [
    # every school's notice of last year's results, a complaint about 1 result in 50 (a third dismissed)
    """INSERT INTO verification_notice (year, published_at, ends_at, school_id)
       SELECT {y1}, now() - INTERVAL '20 days', now() - INTERVAL '13 days', o.id
       FROM accounts_organisation o WHERE o.kind = 'school' ON CONFLICT DO NOTHING""",
    """INSERT INTO verification_resultcomplaint (field, message, state, resolution, created_at, resolved_at, notice_id, result_id, school_id)
       SELECT (ARRAY['public', 'professional', 'elective', 'carry_in', 'status'])[1 + r.teacher_id % 5], '学时有误',
              CASE WHEN r.teacher_id % 3 = 0 THEN 'dismissed' ELSE 'open' END,
              CASE WHEN r.teacher_id % 3 = 0 THEN '核实无误' ELSE '' END,
              n.published_at + (r.teacher_id % 100) * INTERVAL '1 minute',
              CASE WHEN r.teacher_id % 3 = 0 THEN n.published_at + INTERVAL '2 days' END, n.id, r.id, r.school_id
       FROM verification_verificationresult r JOIN verification_notice n ON n.school_id = r.school_id AND n.year = r.year
       WHERE r.year = {y1} AND (r.teacher_id % 50 = 0 OR r.teacher_id = {teacher_id})""",
    # the audit log: one event per teacher over 300 days, 500 actors
    """INSERT INTO security_auditevent (time, event, actor_username, role, ip_address, object_type, object_id, details)
       SELECT now() - (t.id % 300) * INTERVAL '1 day' - (t.id % 86400) * INTERVAL '1 second',
              (ARRAY['login', 'logout', 'role_switch', 'password_change', 'export', 'id_number_view', 'token_issue'])[1 + t.id % 7],
              'bench-user-' || (t.id % 500), 'school_admin', '10.0.0.1', 'teacher', t.id::text, '{{}}'::jsonb
       FROM accounts_teacher t""",
    # published training projects (the city, each district, 1 school in 10: ~210 at 200,000 teachers) and 1 teacher in 4 enrolled
    """INSERT INTO hours_trainingproject (title, category, hours, start_date, end_date, level, kind, mode, enrolment_start,
              enrolment_end, description, published_at, created_at, organiser_id, approval, for_key_teachers, target_stage)
       SELECT '培训项目 ' || o.id, CASE WHEN o.id % 2 = 0 THEN 'professional' ELSE 'elective' END, 12.0,
              DATE '{y}-01-10' + (o.id % 300)::int, DATE '{y}-01-12' + (o.id % 300)::int, o.kind, 'training', 'face_to_face',
              DATE '{y}-01-01', DATE '{y}-12-31', '', now() - INTERVAL '30 days', now() - INTERVAL '40 days', o.id,
              'not_needed', FALSE, 'any'
       FROM accounts_organisation o
       WHERE o.kind IN ('city', 'district') OR (o.kind = 'school' AND o.id % 10 = 0)""",
    """INSERT INTO hours_enrolment (state, reason, created_at, updated_at, district_id, school_id, teacher_id, project_id)
       WITH p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn, count(*) OVER () AS n FROM hours_trainingproject)
       SELECT (ARRAY['applied', 'principal_approved', 'district_approved', 'final', 'rejected'])[1 + t.id % 5], '',
              now() - (t.id % 200) * INTERVAL '1 hour', now() - (t.id % 200) * INTERVAL '1 hour', s.parent_id, s.id, t.id, p.id
       FROM accounts_teacher t JOIN accounts_organisation s ON s.id = t.school_id JOIN p ON p.rn = t.id % p.n
       WHERE t.id % 4 = 0 OR t.id = {teacher_id} ON CONFLICT DO NOTHING""",
    # points exchange requests: 1 teacher in 10 (the persona too)
    """INSERT INTO points_exchangerequest (year, category, hours, points, state, reason, created_at, teacher_id)
       SELECT {y}, 'elective', 2, 20, (ARRAY['pending', 'paid', 'refused', 'cancelled'])[1 + t.id % 4], '',
              now() - (t.id % 500) * INTERVAL '1 hour', t.id
       FROM accounts_teacher t WHERE t.id % 10 = 0 OR t.id = {teacher_id}""",
]
# A training provider (培训机构) under the city, with the two kinds of project a provider runs at city
# scale: one with enrolment that 1 teacher in 40 joined (most finally enrolled, and their hours registered
# for half of those), and one without enrolment (无需报名), where the organiser ticks from every active
# teacher of the city. Once per database; the provider's code is the marker.
PROVIDER_SQL = [
    """INSERT INTO hours_trainingproject (title, category, hours, start_date, end_date, level, kind, mode, enrolment_start,
              enrolment_end, description, published_at, created_at, organiser_id, approval, for_key_teachers, target_stage)
       SELECT '机构培训 ' || k, 'professional', 12.0, DATE '{y}-03-01' + k, DATE '{y}-03-03' + k, 'city', 'training',
              'face_to_face', CASE WHEN k = 2 THEN NULL ELSE DATE '{y}-01-01' END,
              CASE WHEN k = 2 THEN NULL ELSE DATE '{y}-12-31' END, '', now() - INTERVAL '30 days',
              now() - INTERVAL '40 days' + k * INTERVAL '1 minute', {org}, 'not_needed', FALSE, 'any'
       FROM generate_series(1, 60) k""",
    """INSERT INTO hours_enrolment (state, reason, created_at, updated_at, district_id, school_id, teacher_id, project_id)
       SELECT CASE WHEN t.id % 400 < 360 THEN 'final' ELSE 'applied' END, '', now() - (t.id % 200) * INTERVAL '1 hour',
              now() - (t.id % 200) * INTERVAL '1 hour', s.parent_id, s.id, t.id, {big}
       FROM accounts_teacher t JOIN accounts_organisation s ON s.id = t.school_id
       WHERE t.id % 40 = 1 ON CONFLICT DO NOTHING""",
]
PERSONA_SQL = [
    # each persona: 300 notifications (a third unread); each administrator: 300 exports of its own among
    # 1,000 of other roles of its organisation
    """INSERT INTO hours_notification (message, link, created_at, read_at, user_id)
       SELECT '申报已审核 ' || k, '/hours/', now() - k * INTERVAL '1 hour',
              CASE WHEN k % 3 = 0 THEN NULL ELSE now() END, {user}
       FROM generate_series(1, 300) k""",
    """INSERT INTO verification_exportjob (kind, params, status, file, filename, error, created_at, finished_at,
              organisation_id, requested_by_id)
       SELECT (ARRAY['statistics', 'results', 'provincial_xlsx', 'provincial_csv'])[1 + k % 4],
              jsonb_build_object('year', {y1}, 'role_id', CASE WHEN k <= 300 THEN {role} ELSE 0 END),
              CASE WHEN k % 10 = 0 THEN 'failed' ELSE 'ready' END, '', 'export-' || k || '.xlsx',
              CASE WHEN k % 10 = 0 THEN 'bench' ELSE '' END, now() - k * INTERVAL '1 hour', now() - k * INTERVAL '1 hour',
              {org}, {user}
       FROM generate_series(1, 1300) k""",
]


def extras(p: dict) -> None:
    """The rows the lesser lists read (see EXTRAS_SQL), added once; ANALYZE what was written."""
    from django.db import connection, transaction

    from accounts.models import Role
    from security.models import AuditEvent

    t = time.perf_counter()
    wrote = []
    with transaction.atomic(), connection.cursor() as cur:  # all or nothing: the marker row says it was done
        if not AuditEvent.objects.filter(actor_username="bench-user-0").exists():
            for sql in EXTRAS_SQL:
                cur.execute(sql.format(y=YEAR, y1=YEAR - 1, teacher_id=p["teacher_id"]))
            wrote += [
                "verification_notice",
                "verification_resultcomplaint",
                "security_auditevent",
                "hours_trainingproject",
                "hours_enrolment",
                "points_exchangerequest",
            ]
        for name in ("teacher", "school", "district", "city"):
            user = p[name]["user"]
            cur.execute("SELECT 1 FROM hours_notification WHERE user_id = %s LIMIT 1", [user])
            if cur.fetchone():
                continue
            role = Role.objects.get(pk=p[name]["role"])
            for sql in PERSONA_SQL:
                cur.execute(sql.format(y1=YEAR - 1, user=user, role=role.pk, org=role.organisation_id))
            wrote += ["hours_notification", "verification_exportjob"]
    with connection.cursor() as cur:
        for table in sorted(set(wrote)):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    if wrote:
        print(f"  lesser lists' rows in {time.perf_counter() - t:.1f} s", flush=True)
    provider_projects(p)
    from home.behind import behind_refresh
    from home.models import BehindCount

    if not BehindCount.objects.exists():  # what the hourly task (home.tasks.refresh_behind) keeps
        t = time.perf_counter()
        n = behind_refresh()
        print(f"  who-is-behind counts of {n:,} schools in {time.perf_counter() - t:.1f} s", flush=True)


def provider_projects(p: dict) -> None:
    """The provider's projects and the big project's enrolments (PROVIDER_SQL), once; ANALYZE them."""
    from django.db import connection, transaction

    from training.models import TrainingProject

    org = p["provider"]["org"]
    if TrainingProject.objects.filter(organiser_id=org).exists():
        return
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(PROVIDER_SQL[0].format(y=YEAR, org=org))
        big = TrainingProject.objects.filter(organiser_id=org, enrolment_start__isnull=False).order_by("pk").first()
        cur.execute(PROVIDER_SQL[1].format(big=big.pk))
    with connection.cursor() as cur:
        for table in ("hours_trainingproject", "hours_enrolment"):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  the provider's projects and enrolments in {time.perf_counter() - t:.1f} s", flush=True)


def _api_list(viewset, p: dict, persona: str, query: str = ""):
    """The queryset `viewset` lists for `persona` (as a request with `query` would), for deep cursors."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from accounts.models import User

    user = User.objects.get(pk=p[persona]["user"])
    raw = APIRequestFactory().get(f"/?{query}", HTTP_X_CPD_ROLE=str(p[persona]["role"]))
    raw.user = user
    request = Request(raw)
    request.user = user
    view = viewset()
    view.request, view.action, view.kwargs, view.format_kwarg, view.args = request, "list", {}, None, ()
    return view.filter_queryset(view.get_queryset())


def lesser_ids(p: dict) -> dict:
    """Ids the detail pages need and keyset cursors at the 80% point of the lesser API lists."""
    from accounts.api import TeacherViewSet
    from accounts.models import Role
    from cpd.pagination import cursor_of
    from hours.api import NotificationViewSet
    from hours.models import Declaration
    from points.api import ExchangeRequestViewSet
    from security.api import AuditEventViewSet
    from training.api import EnrolmentViewSet
    from training.models import TrainingProject
    from training.projects import enrolments_visible_to
    from verification.api import ExportViewSet, ResultComplaintViewSet
    from verification.models import VerificationResult

    def at(qs, share=0.8):
        n = qs.order_by().count()
        return cursor_of(qs[max(0, int(n * share) - 1)], qs) if n else ""

    out = {
        "declaration": Declaration.objects.filter(teacher_id=p["teacher_id"]).order_by("pk").values_list("pk", flat=True).first(),
        "result": VerificationResult.objects.filter(teacher_id=p["teacher_id"]).values_list("pk", flat=True).first(),
        "audit": at(_api_list(AuditEventViewSet, p, "city")),
        "teachers": at(_api_list(TeacherViewSet, p, "city")),
        "teachers_school": at(_api_list(TeacherViewSet, p, "school")),
        "project_city": TrainingProject.objects.filter(organiser__kind="city").values_list("pk", flat=True).first(),
        "project_provider": TrainingProject.objects.filter(organiser_id=p["provider"]["org"], enrolment_start__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
        "project_provider_open": TrainingProject.objects.filter(organiser_id=p["provider"]["org"], enrolment_start__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
        "enrolments": at(_api_list(EnrolmentViewSet, p, "city")),
        "enrolments_page": at(enrolments_visible_to(Role.objects.get(pk=p["city"]["role"])).order_by("created_at", "pk")),
        "exchange": at(_api_list(ExchangeRequestViewSet, p, "city")),
        "result_complaints": at(_api_list(ResultComplaintViewSet, p, "city")),
        "exports": at(_api_list(ExportViewSet, p, "city")),
        "notifications": at(_api_list(NotificationViewSet, p, "teacher")),
    }
    return out


def personas(city_id: int) -> dict:
    """A user per role driven, each with a session id and an API token (created here, in the database)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User
    from security.mfa import mfa_required
    from security.services import api_token_issue

    district = Organisation.objects.filter(parent_id=city_id, kind=OrgKind.DISTRICT).order_by("code").first()
    school = (
        Organisation.objects.filter(parent=district, kind=OrgKind.SCHOOL)
        .annotate(n=Count("teachers"))
        .order_by("-n", "pk")
        .first()
    )
    teacher = Teacher.objects.filter(school=school, status="active").order_by("pk").first()
    city = Organisation.objects.get(pk=city_id)
    provider = Organisation.objects.filter(kind=OrgKind.PROVIDER, code="BENCH-PROVIDER").first()
    if provider is None:
        provider = Organisation.objects.create(name="bench 培训机构", code="BENCH-PROVIDER", kind=OrgKind.PROVIDER, parent=city)
    wanted = {
        "city": (RoleKind.CITY_ADMIN, city_id),
        "district": (RoleKind.DISTRICT_ADMIN, district.pk),
        "school": (RoleKind.SCHOOL_ADMIN, school.pk),
        "teacher": (RoleKind.TEACHER, school.pk),
        "principal": (RoleKind.PRINCIPAL, school.pk),
        "provider": (RoleKind.PROVIDER, provider.pk),
    }
    out = {}
    for name, (kind, org_id) in wanted.items():
        user, _ = User.objects.get_or_create(username=f"bench-pages-{name}", defaults={"name": name})
        role, _ = Role.objects.get_or_create(user=user, kind=kind, organisation_id=org_id)
        if kind == RoleKind.TEACHER and teacher.user_id != user.pk:
            Teacher.objects.filter(pk=teacher.pk).update(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session["active_role_id"] = role.pk
        if mfa_required(user):  # administrators' pages wait for the second factor: this session passed it
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                user=user, name="bench_pages", confirmed=True
            )
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        _token, secret = api_token_issue(user=user, name="bench_pages")  # hashed tokens: a new one per run
        out[name] = {"user": user.pk, "role": role.pk, "org": org_id, "session": session.session_key, "token": secret}
    out["school_id"] = school.pk
    out["teacher_id"] = teacher.pk
    return out


def deep_cursors(p: dict) -> dict:
    """Keyset cursors at the 80% point of each long list (what a user paging deep would hold)."""
    from accounts.models import Role
    from cpd.pagination import cursor_of
    from hours import selectors as hs
    from verification import selectors as vs

    city = Role.objects.get(pk=p["city"]["role"])
    district = Role.objects.get(pk=p["district"]["role"])

    def at(qs, share=0.8):
        n = qs.order_by().count()
        row = qs[max(0, int(n * share) - 1)]
        return cursor_of(row, qs), n

    out = {}
    out["ledger"], n = at(hs.ledger_visible_to(city).order_by("year", "created_at", "pk"))
    out["ledger_page"] = max(1, int(n * 0.8) // 50)
    out["declarations"], n = at(hs.declarations_visible_to(city).order_by("-updated_at", "-pk"))
    out["declarations_page"] = max(1, int(n * 0.8) // 50)
    out["results"], n = at(vs.results_visible_to(city).filter(year=YEAR - 1).order_by("year", "school_id", "teacher_id"))
    out["results_page"] = max(1, int(n * 0.8) // 50)
    out["queue"], n = at(hs.review_queue(district, "district"))
    out["queue_page"] = max(1, int(n * 0.8) // 20)
    out["lesser"] = lesser_ids(p)
    return out


def endpoints(p: dict, deep: dict, old: bool) -> list[tuple[str, str, str, str]]:
    """(name, persona, kind, path) for this code (`old`: a checkout paging by OFFSET)."""
    y = YEAR - 1

    def deep_q(key: str) -> str:
        return f"page={deep[key + '_page']}" if old else f"cursor={deep[key]}"

    return [
        ("ceiling /api/v1/me/", "teacher", "api", "/api/v1/me/"),
        ("API ledger, city, page 1", "city", "api", "/api/v1/ledger/"),
        ("API ledger, city, deep", "city", "api", f"/api/v1/ledger/?{deep_q('ledger')}"),
        ("API declarations, city, page 1", "city", "api", "/api/v1/declarations/"),
        ("API declarations, city, deep", "city", "api", f"/api/v1/declarations/?{deep_q('declarations')}"),
        ("API declarations, district queue", "district", "api", "/api/v1/declarations/?queue=mine"),
        ("API results, city, page 1", "city", "api", f"/api/v1/results/?year={y}"),
        ("API results, city, deep", "city", "api", f"/api/v1/results/?year={y}&{deep_q('results')}"),
        ("statistics, city", "city", "web", f"/verification/statistics/?year={y}"),
        ("API statistics, city", "city", "api", f"/api/v1/statistics/?year={y}"),
        ("review queue, district, page 1", "district", "web", "/hours/review/"),
        ("review queue, district, deep", "district", "web", f"/hours/review/?{deep_q('queue')}"),
        ("review queue, school", "school", "web", "/hours/review/"),
        ("roster, city, page 1", "city", "web", "/roster/"),
        ("roster, city, search", "city", "web", "/roster/?q=%E7%8E%8B%E4%BC%9F"),
        ("results page, city", "city", "web", f"/verification/results/?year={y}"),
        ("teacher hours page", "teacher", "web", f"/hours/?year={YEAR}"),
        ("home, teacher", "teacher", "web", "/"),
        ("home, school", "school", "web", "/"),
        ("home, district", "district", "web", "/"),
        ("home, city", "city", "web", "/"),
        ("teacher API ledger", "teacher", "api", f"/api/v1/ledger/?year={YEAR}"),
        ("organisations, city", "city", "web", "/orgs/"),
        ("API organisations, city", "city", "api", "/api/v1/organisations/"),
        ("statistics, district", "district", "web", f"/verification/statistics/?year={y}"),
    ] + (
        []
        if old
        else lesser_endpoints(p, deep["lesser"]) + single_endpoints(p, deep["lesser"]) + download_endpoints(p, deep["lesser"])
    )


def lesser_endpoints(p: dict, ids: dict) -> list[tuple[str, str, str, str]]:
    """Every other page and API list a role opens that can grow with the data (issue 14's "every page and
    every API list"): first page, a deep page where it pages, each filter and search it offers."""
    y, y1, t = YEAR, YEAR - 1, p["teacher_id"]
    school = p["school_id"]
    name = "%E7%8E%8B"  # 王: the commonest surname, the widest name search
    pair = "%E7%8E%8B%E4%BC%9F"  # 王伟: a surname and a given name, 0.06% of the bench's teachers (the index's case)
    return [
        # --- teacher
        ("declarations page, teacher", "teacher", "web", "/hours/declarations/"),
        ("declarations page, teacher, state", "teacher", "web", "/hours/declarations/?state=approved"),
        ("declaration detail, teacher", "teacher", "web", f"/hours/declarations/{ids['declaration']}/"),
        ("notifications page, teacher", "teacher", "web", "/hours/notifications/"),
        ("notifications page, teacher, deep", "teacher", "web", "/hours/notifications/?page=8"),
        ("my results page, teacher", "teacher", "web", "/verification/my/"),
        ("notice page, teacher", "teacher", "web", "/verification/notice/"),
        ("points page, teacher", "teacher", "web", "/points/"),
        ("projects page, teacher", "teacher", "web", "/hours/projects/"),
        ("projects page, teacher, search", "teacher", "web", "/hours/projects/?q=%E5%9F%B9%E8%AE%AD"),
        ("projects page, teacher, deep", "teacher", "web", "/hours/projects/?page=8"),
        ("enrolments page, teacher", "teacher", "web", "/hours/enrolments/"),
        ("courses page, teacher", "teacher", "web", "/hours/courses/"),
        ("transcripts page, teacher", "teacher", "web", "/transcripts/"),
        ("my record page, teacher", "teacher", "web", "/me/record/"),
        ("calendar page, teacher", "teacher", "web", "/calendar/"),
        ("API declarations, teacher", "teacher", "api", "/api/v1/declarations/"),
        ("API declaration detail, teacher", "teacher", "api", f"/api/v1/declarations/{ids['declaration']}/"),
        ("API notifications, teacher", "teacher", "api", "/api/v1/notifications/"),
        ("API notifications, teacher, unread", "teacher", "api", "/api/v1/notifications/?unread=1"),
        ("API notifications, teacher, deep", "teacher", "api", f"/api/v1/notifications/?cursor={ids['notifications']}"),
        ("API results, teacher", "teacher", "api", "/api/v1/results/"),
        ("API result detail, teacher", "teacher", "api", f"/api/v1/results/{ids['result']}/"),
        ("API figures, teacher", "teacher", "api", f"/api/v1/ledger/figures/?year={y}"),
        ("API notices, teacher", "teacher", "api", "/api/v1/notices/"),
        ("API result complaints, teacher", "teacher", "api", "/api/v1/result-complaints/"),
        ("API points, teacher", "teacher", "api", "/api/v1/points/me/"),
        ("API exchange requests, teacher", "teacher", "api", "/api/v1/points/exchange-requests/"),
        ("API projects, teacher", "teacher", "api", "/api/v1/projects/"),
        ("API enrolments, teacher", "teacher", "api", "/api/v1/enrolments/"),
        ("API registration complaints, teacher", "teacher", "api", "/api/v1/registration-complaints/"),
        ("API courses, teacher", "teacher", "api", "/api/v1/courses/"),
        ("API years, teacher", "teacher", "api", "/api/v1/years/"),
        ("API policies, teacher", "teacher", "api", "/api/v1/policies/"),
        # --- school administrator
        ("roster, school", "school", "web", "/roster/"),
        ("roster, school, search", "school", "web", f"/roster/?q={name}"),
        ("roster, school, filters", "school", "web", "/roster/?status=active&stage=primary"),
        ("teacher detail, school", "school", "web", f"/roster/{t}/"),
        ("teacher hours, school", "school", "web", f"/hours/teacher/{t}/?year={y}"),
        ("results page, school", "school", "web", f"/verification/results/?year={y1}"),
        ("results page, school, status", "school", "web", f"/verification/results/?year={y1}&status=failed"),
        ("notice page, school", "school", "web", "/verification/notice/"),
        ("result complaints page, school", "school", "web", "/verification/complaints/"),
        ("confirmations page, district", "district", "web", "/verification/confirmations/"),
        ("exports page, school", "school", "web", "/verification/exports/"),
        ("exchange requests page, school", "school", "web", "/points/requests/"),
        ("exchange requests page, school, all", "school", "web", "/points/requests/?show=all"),
        ("enrolments page, school", "school", "web", "/hours/enrolments/"),
        ("enrolments page, school, all", "school", "web", "/hours/enrolments/?show=all"),
        ("returned to-do, school", "school", "web", "/todo/returned/"),
        ("behind, school", "school", "web", "/behind/"),
        ("transcripts page, school", "school", "web", "/transcripts/"),
        ("API teachers, school", "school", "api", "/api/v1/teachers/"),
        ("API teachers, school, search", "school", "api", f"/api/v1/teachers/?q={name}"),
        ("API teachers, school, deep", "school", "api", f"/api/v1/teachers/?cursor={ids['teachers_school']}"),
        ("API results, school", "school", "api", f"/api/v1/results/?year={y1}"),
        ("API exports, school", "school", "api", "/api/v1/exports/"),
        ("API exchange requests, school, pending", "school", "api", "/api/v1/points/exchange-requests/?state=pending"),
        ("API enrolments, school, applied", "school", "api", "/api/v1/enrolments/?state=applied"),
        ("API result complaints, school", "school", "api", "/api/v1/result-complaints/"),
        ("API roster imports, school", "school", "api", "/api/v1/roster-imports/"),
        ("API hours imports, school", "school", "api", "/api/v1/hours-imports/"),
        # --- principal
        ("home, principal", "principal", "web", "/"),
        ("enrolments page, principal", "principal", "web", "/hours/enrolments/"),
        ("enrolments page, principal, all", "principal", "web", "/hours/enrolments/?show=all"),
        ("results page, principal", "principal", "web", f"/verification/results/?year={y1}"),
        ("notice page, principal", "principal", "web", "/verification/notice/"),
        ("API enrolments, principal, applied", "principal", "api", "/api/v1/enrolments/?state=applied"),
        # --- training provider: a project 1 teacher in 40 enrolled in, and one without enrolment (无需报名)
        ("home, provider", "provider", "web", "/"),
        ("projects page, provider", "provider", "web", "/hours/projects/?mine=1"),
        ("project detail, provider, enrolled", "provider", "web", f"/hours/projects/{ids['project_provider']}/"),
        ("project detail, provider, no enrolment", "provider", "web", f"/hours/projects/{ids['project_provider_open']}/"),
        (
            "project detail, provider, no enrolment, search",
            "provider",
            "web",
            f"/hours/projects/{ids['project_provider_open']}/?q={name}",
        ),
        ("enrolments page, provider", "provider", "web", "/hours/enrolments/?show=all"),
        ("registration complaints page, provider", "provider", "web", "/hours/complaints/"),
        ("API projects, provider", "provider", "api", "/api/v1/projects/"),
        ("API enrolments, provider", "provider", "api", "/api/v1/enrolments/"),
        (
            "API enrolments, provider, project",
            "provider",
            "api",
            f"/api/v1/enrolments/?project={ids['project_provider']}",
        ),
        # --- district administrator
        ("roster, district", "district", "web", "/roster/"),
        ("roster, district, search", "district", "web", f"/roster/?q={name}"),
        ("results page, district, status", "district", "web", f"/verification/results/?year={y1}&status=failed"),
        ("results page, district, search", "district", "web", f"/verification/results/?year={y1}&q={name}"),
        ("results page, district, school", "district", "web", f"/verification/results/?year={y1}&school={school}"),
        ("result complaints page, district", "district", "web", "/verification/complaints/"),
        ("late to-do, district", "district", "web", "/todo/late/"),
        ("returned to-do, district", "district", "web", "/todo/returned/"),
        ("behind, district", "district", "web", "/behind/"),
        ("behind, district, school", "district", "web", f"/behind/?unit={school}"),
        ("enrolments page, district", "district", "web", "/hours/enrolments/"),
        ("enrolments page, district, all", "district", "web", "/hours/enrolments/?show=all"),
        ("extensions page, city", "city", "web", "/hours/extensions/"),
        ("registration complaints page, district", "district", "web", "/hours/complaints/"),
        ("exports page, district", "district", "web", "/verification/exports/"),
        ("projects page, district, mine", "district", "web", "/hours/projects/?mine=1"),
        ("review queue, district, search", "district", "web", f"/hours/review/?q={name}"),
        # The bench's declarations are elective or professional, activity "training" (not one of the form's
        # choices, which refused the filter until 2026-12: the page was then the unfiltered queue); only
        # elective ones wait for the district. So: a category every waiting declaration has, one none has
        # and an activity type none has (the widest walk of the queue for nothing).
        ("review queue, district, category", "district", "web", "/hours/review/?category=elective"),
        ("review queue, district, rare category", "district", "web", "/hours/review/?category=professional"),
        ("review queue, district, activity category", "district", "web", "/hours/review/?activity_type=degree"),
        ("review queue, district, rare name search", "district", "web", f"/hours/review/?q={pair}"),
        ("review queue, district, duplicates", "district", "web", "/hours/review/?duplicates=on"),
        ("teacher picker, district", "district", "web", f"/pickers/teachers/?q={name}"),
        ("school picker, district", "district", "web", "/pickers/schools/?q=%E7%AC%AC1"),
        ("API teachers, district, school", "district", "api", f"/api/v1/teachers/?school={school}"),
        ("API result complaints, district", "district", "api", "/api/v1/result-complaints/"),
        ("API teachers, district, search", "district", "api", f"/api/v1/teachers/?q={name}"),
        ("API enrolments, district", "district", "api", "/api/v1/enrolments/"),
        ("API exports, district", "district", "api", "/api/v1/exports/"),
        ("API notices, district", "district", "api", "/api/v1/notices/"),
        ("API declarations, district, filters", "district", "api", f"/api/v1/declarations/?state=submitted&year={y}"),
        # --- city administrator
        ("policies page, city", "city", "web", "/verification/policies/"),
        ("runs page, city", "city", "web", "/verification/runs/"),
        ("years page, city", "city", "web", "/hours/years/"),
        ("audit page, city", "city", "web", "/account/audit/"),
        ("audit page, city, event", "city", "web", "/account/audit/?event=login"),
        ("audit page, city, actor", "city", "web", "/account/audit/?actor=bench-user-7"),
        ("audit page, city, dates", "city", "web", f"/account/audit/?date_from={y}-01-01&date_to={y}-12-31"),
        ("audit page, city, deep", "city", "web", f"/account/audit/?cursor={ids['audit']}"),
        ("exports page, city", "city", "web", "/verification/exports/"),
        ("projects page, city", "city", "web", "/hours/projects/"),
        ("project detail, city (organiser)", "city", "web", f"/hours/projects/{ids['project_city']}/"),
        ("project detail, teacher", "teacher", "web", f"/hours/projects/{ids['project_city']}/"),
        ("courses page, city", "city", "web", "/hours/courses/"),
        ("points rules page, city", "city", "web", "/points/rules/"),
        ("settings to-do, city", "city", "web", "/todo/settings/"),
        ("projects to-do, city", "city", "web", "/todo/projects/"),
        ("late to-do, city", "city", "web", "/todo/late/"),
        ("returned to-do, city", "city", "web", "/todo/returned/"),
        ("behind, city", "city", "web", "/behind/"),
        ("result complaints page, city", "city", "web", "/verification/complaints/"),
        ("result complaints page, city, open", "city", "web", "/verification/complaints/?state=open"),
        ("result complaints page, city, deep", "city", "web", f"/verification/complaints/?cursor={ids['result_complaints']}"),
        ("enrolments page, city, all", "city", "web", "/hours/enrolments/?show=all"),
        ("enrolments page, city, deep", "city", "web", f"/hours/enrolments/?show=all&cursor={ids['enrolments_page']}"),
        ("exchange requests page, city, all", "city", "web", "/points/requests/?show=all"),
        ("exchange requests page, city, deep", "city", "web", f"/points/requests/?show=all&cursor={ids['exchange']}"),
        ("tokens page, city", "city", "web", "/account/tokens/"),
        ("roster, city, filters", "city", "web", "/roster/?status=active&stage=primary&subject=math"),
        ("results page, city, search", "city", "web", f"/verification/results/?year={y1}&q={name}"),
        ("results page, city, rare name search", "city", "web", f"/verification/results/?year={y1}&q={pair}"),
        ("results page, city, status", "city", "web", f"/verification/results/?year={y1}&status=failed"),
        ("API audit events, city", "city", "api", "/api/v1/audit-events/"),
        ("API audit events, city, event", "city", "api", "/api/v1/audit-events/?event=login"),
        ("API audit events, city, actor", "city", "api", "/api/v1/audit-events/?actor=bench-user-7"),
        ("API audit events, city, deep", "city", "api", f"/api/v1/audit-events/?cursor={ids['audit']}"),
        ("API audit events, city, dates", "city", "api", f"/api/v1/audit-events/?date_from={y}-01-01&date_to={y}-12-31"),
        ("API teachers, city", "city", "api", "/api/v1/teachers/"),
        ("API teachers, city, search", "city", "api", f"/api/v1/teachers/?q={name}"),
        ("API teachers, city, filters", "city", "api", "/api/v1/teachers/?status=active&stage=primary&subject=math"),
        ("API teachers, city, deep", "city", "api", f"/api/v1/teachers/?cursor={ids['teachers']}"),
        ("API enrolments, city", "city", "api", "/api/v1/enrolments/"),
        ("API enrolments, city, state", "city", "api", "/api/v1/enrolments/?state=final"),
        ("API enrolments, city, deep", "city", "api", f"/api/v1/enrolments/?cursor={ids['enrolments']}"),
        ("API exchange requests, city", "city", "api", "/api/v1/points/exchange-requests/"),
        ("API exchange requests, city, state", "city", "api", "/api/v1/points/exchange-requests/?state=pending"),
        ("API exchange requests, city, deep", "city", "api", f"/api/v1/points/exchange-requests/?cursor={ids['exchange']}"),
        ("API result complaints, city", "city", "api", "/api/v1/result-complaints/"),
        ("API result complaints, city, deep", "city", "api", f"/api/v1/result-complaints/?cursor={ids['result_complaints']}"),
        ("API exports, city", "city", "api", "/api/v1/exports/"),
        ("API exports, city, deep", "city", "api", f"/api/v1/exports/?cursor={ids['exports']}"),
        ("API notices, city", "city", "api", "/api/v1/notices/"),
        ("API projects, city", "city", "api", "/api/v1/projects/"),
        ("API extensions, city", "city", "api", "/api/v1/extensions/"),
        ("API runs, city", "city", "api", "/api/v1/verification-runs/"),
        ("API policies, city", "city", "api", "/api/v1/policies/"),
        ("API tokens, city", "city", "api", "/api/v1/auth/tokens/"),
        ("API points rules, city", "city", "api", "/api/v1/points/rules/"),
        ("API points windows, city", "city", "api", "/api/v1/points/windows/"),
        ("API ledger, city, teacher", "city", "api", f"/api/v1/ledger/?teacher={t}"),
        ("API ledger, city, year+category", "city", "api", f"/api/v1/ledger/?year={y}&category=elective"),
        ("API declarations, city, filters", "city", "api", f"/api/v1/declarations/?state=approved&year={y}"),
        ("API results, city, status", "city", "api", f"/api/v1/results/?year={y1}&status=failed"),
        ("API results, city, school", "city", "api", f"/api/v1/results/?year={y1}&school={school}"),
        ("API figures, city, teacher", "city", "api", f"/api/v1/ledger/figures/?year={y}&teacher={t}"),
    ]


# --- single objects, downloads, the export jobs, the cycle regime (issue 14, "every page") -------------------

# What the single-object pages and the points pages read that the lists' data lacks: a finished run of last
# year, points accounts (1 teacher in 10, 3 entries each; the persona teacher 300 entries: its page pages).
SINGLE_SQL = [
    """INSERT INTO points_pointsaccount (teacher_id, year, balance, held)
       SELECT t.id, {y}, 30, 0 FROM accounts_teacher t WHERE t.id % 10 = 0 OR t.id = {teacher_id}
       ON CONFLICT DO NOTHING""",
    """INSERT INTO points_pointsentry (account_id, kind, delta, amount, occurred_on, reason, created_at)
       SELECT a.id, 'earned', 10, 10, DATE '{y}-03-01' + k, '在线学习', now() - k * INTERVAL '1 day'
       FROM points_pointsaccount a CROSS JOIN generate_series(1, 300) k
       WHERE a.year = {y} AND (k <= 3 OR a.teacher_id = {teacher_id})""",
]


def single_data(p: dict) -> dict:
    """The rows of SINGLE_SQL and a finished verification run, once (the run is the marker)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from verification.models import RunStatus, VerificationResult, VerificationRun

    run = VerificationRun.objects.filter(year=YEAR - 1, status=RunStatus.DONE).order_by("pk").first()
    if run is None:
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            total = VerificationResult.objects.filter(year=YEAR - 1).count()
            run = VerificationRun.objects.create(
                year=YEAR - 1, status=RunStatus.DONE, total=total, counts={"passed": total}, finished_at=timezone.now()
            )
            for sql in SINGLE_SQL:
                cur.execute(sql.format(y=YEAR, teacher_id=p["teacher_id"]))
        with connection.cursor() as cur:
            for table in ("points_pointsaccount", "points_pointsentry", "verification_verificationrun"):
                cur.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  single objects' rows in {time.perf_counter() - t:.1f} s", flush=True)
    return {"run": run.pk}


EXPORT_JOBS = {  # persona → the export kinds it can start (provincial: the city only)
    "city": ["statistics", "results", "provincial_xlsx", "provincial_csv"],
    "district": ["statistics", "results"],
    "school": ["statistics", "results", "transcripts"],  # transcripts: the school's ZIP (a PDF per teacher)
}


def export_jobs(p: dict, rebuild: bool) -> dict:
    """A ready export of each kind per administrator (built by `export_build`, the Celery task's body, here
    in this process), for the download endpoints; built once per database, or again with `--jobs`, which
    prints each build's time (the job's time, apart from the request that starts it)."""
    from accounts.models import Role
    from verification.exports import export_build
    from verification.models import ExportJob, ExportStatus

    out = {}
    for persona, kinds in EXPORT_JOBS.items():
        role = Role.objects.select_related("organisation").get(pk=p[persona]["role"])
        for kind in kinds:
            mine = ExportJob.objects.filter(
                kind=kind, organisation=role.organisation, params__role_id=role.pk, params__bench=True, status=ExportStatus.READY
            )
            job = None if rebuild else mine.order_by("-pk").first()
            if job is None:
                job = ExportJob.objects.create(
                    kind=kind,
                    params={"year": YEAR - 1, "school_id": None, "role_id": role.pk, "bench": True},
                    organisation=role.organisation,
                    requested_by_id=p[persona]["user"],
                )
                t = time.perf_counter()
                job = export_build(job.pk)
                took = time.perf_counter() - t
                size = job.file.size if job.file else 0
                print(f"  export job {kind:16} {persona:8} {took:7.2f} s  {size / 1e6:6.1f} MB  {job.status}", flush=True)
            out[f"{persona}_{kind}"] = job.pk
    return out


def single_endpoints(p: dict, ids: dict) -> list[tuple[str, str, str, str]]:
    """One object's page or API (each role that opens it) and the points pages."""
    y, y1, t = YEAR, YEAR - 1, p["teacher_id"]
    d, r = ids["declaration"], ids["result"]
    out = [
        ("declaration detail, school", "school", "web", f"/hours/declarations/{d}/"),
        ("declaration detail, district", "district", "web", f"/hours/declarations/{d}/"),
        ("declaration detail, city", "city", "web", f"/hours/declarations/{d}/"),
        ("API declaration detail, school", "school", "api", f"/api/v1/declarations/{d}/"),
        ("API declaration detail, city", "city", "api", f"/api/v1/declarations/{d}/"),
        ("teacher detail, district", "district", "web", f"/roster/{t}/"),
        ("teacher detail, city", "city", "web", f"/roster/{t}/"),
        ("teacher hours, district", "district", "web", f"/hours/teacher/{t}/?year={y}"),
        ("teacher hours, city", "city", "web", f"/hours/teacher/{t}/?year={y}"),
        ("teacher hours, city, last year", "city", "web", f"/hours/teacher/{t}/?year={y1}"),
        ("API teacher detail, school", "school", "api", f"/api/v1/teachers/{t}/"),
        ("API teacher detail, district", "district", "api", f"/api/v1/teachers/{t}/"),
        ("API teacher detail, city", "city", "api", f"/api/v1/teachers/{t}/"),
        ("API result detail, school", "school", "api", f"/api/v1/results/{r}/"),
        ("API result detail, district", "district", "api", f"/api/v1/results/{r}/"),
        ("API result detail, city", "city", "api", f"/api/v1/results/{r}/"),
        ("API result complaint corrections, city", "city", "api", f"/api/v1/result-complaints/{ids['complaint']}/corrections/"),
        ("API project detail, teacher", "teacher", "api", f"/api/v1/projects/{ids['project_city']}/"),
        ("API project detail, city", "city", "api", f"/api/v1/projects/{ids['project_city']}/"),
        ("API project detail, provider", "provider", "api", f"/api/v1/projects/{ids['project_provider']}/"),
        ("API enrolment detail, teacher", "teacher", "api", f"/api/v1/enrolments/{ids['enrolment']}/"),
        ("API enrolment detail, city", "city", "api", f"/api/v1/enrolments/{ids['enrolment']}/"),
        ("API exchange request detail, teacher", "teacher", "api", f"/api/v1/points/exchange-requests/{ids['exchange_one']}/"),
        ("API exchange request detail, city", "city", "api", f"/api/v1/points/exchange-requests/{ids['exchange_one']}/"),
        ("API export detail, city", "city", "api", f"/api/v1/exports/{ids['jobs']['city_results']}/"),
        ("API organisation detail, city", "city", "api", f"/api/v1/organisations/{p['school_id']}/"),
        ("API policy detail, city", "city", "api", f"/api/v1/policies/{y1}/"),
        ("API policy revisions, city", "city", "api", f"/api/v1/policies/{y1}/revisions/"),
        ("API year detail, teacher", "teacher", "api", f"/api/v1/years/{y}/"),
        ("API token detail, city", "city", "api", f"/api/v1/auth/tokens/{ids['token']}/"),
        ("run detail, city", "city", "web", f"/verification/runs/{ids['run']}/"),
        ("API run detail, city", "city", "api", f"/api/v1/verification-runs/{ids['run']}/"),
        ("transcript check, public", "teacher", "anon", f"/transcripts/check/{ids['transcript_code']}/"),
        # --- points
        ("points page, teacher, deep", "teacher", "web", "/points/?page=8"),
        ("exchange requests page, district", "district", "web", "/points/requests/"),
        ("exchange requests page, district, all", "district", "web", "/points/requests/?show=all"),
        ("exchange requests page, city", "city", "web", "/points/requests/"),
    ]
    return out


def download_endpoints(p: dict, ids: dict) -> list[tuple[str, str, str, str]]:
    """Files a role downloads (GET), and the requests that start an export (POST, `api_post`: the path,
    a space, the form body; served with a Redis broker, so the request queues the job and returns)."""
    y1 = YEAR - 1
    jobs = ids["jobs"]
    out = [
        ("download notice xlsx, school", "school", "web", f"/verification/notice/?year={y1}&format=xlsx"),
        ("download transcript PDF, teacher", "teacher", "web", f"/transcripts/{y1}.pdf"),
        ("download calendar feed, teacher", "teacher", "anon", f"/calendar/feed/{ids['calendar_token']}.ics"),
        ("download roster template, school", "school", "web", "/roster/import/template.xlsx"),
        ("download registration template, city", "city", "web", "/hours/registrations/template.xlsx"),
        ("download provincial template, city", "city", "web", "/hours/provincial/template.xlsx"),
        ("download points template, city", "city", "web", "/points/import/template.xlsx"),
        ("API download roster template, school", "school", "api", "/api/v1/roster-imports/template/"),
    ]
    for key, job in sorted(jobs.items()):
        persona, kind = key.split("_", 1)
        out.append((f"download export {kind}, {persona}", persona, "web", f"/verification/exports/{job}/download/"))
        if persona == "city":
            out.append((f"API download export {kind}, {persona}", persona, "api", f"/api/v1/exports/{job}/download/"))
    for persona, kinds in EXPORT_JOBS.items():
        for kind in kinds:
            out.append((f"API start export {kind}, {persona}", persona, "api_post", f"/api/v1/exports/ kind={kind}&year={y1}"))
    return out


def single_ids(p: dict, lesser: dict, rebuild_jobs: bool) -> dict:
    """Ids of the single objects driven (the persona teacher's own where it has one), the ready exports."""
    from accounts.models import User
    from home.services import calendar_token_renew
    from home.transcript import make_code
    from points.models import ExchangeRequest
    from security.models import ApiToken
    from training.models import Enrolment
    from verification.models import ResultComplaint

    t = p["teacher_id"]
    ids = dict(lesser)
    ids.update(single_data(p))
    ids["complaint"] = ResultComplaint.objects.filter(result__teacher_id=t).values_list("pk", flat=True).first()
    ids["enrolment"] = Enrolment.objects.filter(teacher_id=t).values_list("pk", flat=True).first()
    ids["exchange_one"] = ExchangeRequest.objects.filter(teacher_id=t).values_list("pk", flat=True).first()
    ids["token"] = ApiToken.objects.filter(user_id=p["city"]["user"]).order_by("-pk").values_list("pk", flat=True).first()
    ids["transcript_code"] = make_code(t, str(YEAR - 1))
    ids["calendar_token"] = calendar_token_renew(user=User.objects.get(pk=p["teacher"]["user"]))
    ids["jobs"] = export_jobs(p, rebuild_jobs)
    return ids


# The cycle regime (CPD_REGIME=cycle, `cycles/`) on the same data: an annual deployment's migrations dropped
# the cycle tables (verification 0006), so the cycle child creates them, then every active teacher's current
# cycle (started 2022–2025: what the daily `cycles.tasks.open_due_cycles` keeps), and for 1 teacher in 5 (and
# the persona) a completed cycle before it with its certificate, issued on the day the current one started.
CYCLE_SQL = [
    """INSERT INTO verification_cyclepolicy (total_hours, min_school_based, years, pace_per_year, new_teacher_hours,
              certificate_valid_years)
       VALUES (360, 80, 5, 72, 120, 5)""",
    """INSERT INTO verification_teachercycle (teacher_id, start_date, end_date, state, created_at)
       SELECT t.id, s.d, s.d + INTERVAL '5 years', 'active', now()
       FROM accounts_teacher t CROSS JOIN LATERAL (SELECT DATE '2022-01-01' + (t.id * 37 % 1460)::int AS d) s
       WHERE t.status = 'active'""",
    """INSERT INTO verification_teachercycle (teacher_id, start_date, end_date, state, created_at)
       SELECT c.teacher_id, c.start_date - INTERVAL '5 years', c.start_date, 'completed', now()
       FROM verification_teachercycle c WHERE c.state = 'active' AND (c.teacher_id % 5 = 0 OR c.teacher_id = {teacher_id})""",
    """INSERT INTO verification_cyclecertificate (cycle_id, teacher_id, code, issued_on, valid_until, total_hours,
              school_based_hours, exempt_by_degree, created_at)
       SELECT c.id, c.teacher_id, 'BENCH' || lpad(c.teacher_id::text, 11, '0'), c.end_date, c.end_date + INTERVAL '5 years',
              372, 84, FALSE, c.end_date::timestamptz
       FROM verification_teachercycle c WHERE c.state = 'completed'""",
]
CYCLE_TABLES = ("verification_cyclepolicy", "verification_teachercycle", "verification_cyclecertificate")


def cycle_data(p: dict) -> dict:
    """In the cycle child (CPD_REGIME=cycle): the cycle tables and rows (CYCLE_SQL), once; ids for the endpoints."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from cycles.models import CycleCertificate, CyclePolicy, CycleState, TeacherCycle

    if "verification_teachercycle" not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            for model in (CyclePolicy, TeacherCycle, CycleCertificate):
                editor.create_model(model)
    call_command("migrate", verbosity=0, interactive=False)  # the cycles app's own (state-only 0001, and later ones)
    if not CyclePolicy.objects.exists():
        t = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            for sql in CYCLE_SQL:
                cur.execute(sql.format(teacher_id=p["teacher_id"]))
        with connection.cursor() as cur:
            for table in CYCLE_TABLES:
                cur.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  cycles and certificates in {time.perf_counter() - t:.1f} s", flush=True)
    from cycles.models import CycleSchoolCount
    from cycles.rules import cycle_counts_refresh

    if not CycleSchoolCount.objects.exists():  # what the hourly task (cycles.tasks.refresh_cycle_counts) keeps
        t = time.perf_counter()
        n = cycle_counts_refresh()
        print(f"  cycle statistics of {n:,} schools in {time.perf_counter() - t:.1f} s", flush=True)
    cycle = TeacherCycle.objects.get(teacher_id=p["teacher_id"], state=CycleState.ACTIVE)
    cert = CycleCertificate.objects.filter(teacher_id=p["teacher_id"]).order_by("-issued_on").first()
    return {"cycle": cycle.pk, "certificate": cert.code, "completed_cycle": cert.cycle_id}


def cycle_endpoints(p: dict, c: dict | None) -> list[tuple[str, str, str, str]]:
    """What a cycle deployment serves differently (names start "cycle:", served by a CPD_REGIME=cycle server on
    the same database): its own pages and APIs, and the pages that read the cycle instead of the year."""
    c = c or {"cycle": 0, "certificate": "", "completed_cycle": 0}
    code = c["certificate"]
    return [
        ("cycle: my cycle page, teacher", "teacher", "web", "/verification/cycle/"),
        ("cycle: API my cycle, teacher", "teacher", "api", "/api/v1/cycle/"),
        ("cycle: home, teacher", "teacher", "web", "/"),
        ("cycle: teacher hours page", "teacher", "web", f"/hours/?year={YEAR}"),
        ("cycle: transcripts page, teacher", "teacher", "web", "/transcripts/"),
        ("cycle: certificate check, public", "teacher", "anon", f"/certificates/verify/?code={code}"),
        ("cycle: download certificate PDF, teacher", "teacher", "web", f"/verification/cycle/certificate/{code}.pdf"),
        ("cycle: API download certificate PDF, teacher", "teacher", "api", f"/api/v1/cycle/certificates/{code}/pdf/"),
        ("cycle: download transcript PDF, teacher", "teacher", "web", f"/transcripts/cycle/{c['cycle']}.pdf"),
        ("cycle: download completed transcript PDF, teacher", "teacher", "web", f"/transcripts/cycle/{c['completed_cycle']}.pdf"),
        ("cycle: home, school", "school", "web", "/"),
        ("cycle: home, district", "district", "web", "/"),
        ("cycle: home, city", "city", "web", "/"),
        ("cycle: statistics page, school", "school", "web", "/verification/cycle/statistics/"),
        ("cycle: statistics page, district", "district", "web", "/verification/cycle/statistics/"),
        ("cycle: statistics page, city", "city", "web", "/verification/cycle/statistics/"),
        ("cycle: API statistics, school", "school", "api", "/api/v1/cycle-statistics/"),
        ("cycle: API statistics, district", "district", "api", "/api/v1/cycle-statistics/"),
        ("cycle: API statistics, city", "city", "api", "/api/v1/cycle-statistics/"),
        ("cycle: download statistics xlsx, city", "city", "web", "/verification/cycle/statistics/?format=xlsx"),
        ("cycle: settings to-do, city", "city", "web", "/todo/settings/"),
    ]


def _client_get(client, p: dict, persona: str, kind: str, path: str):
    """One request of an endpoint with Django's test client, as the load generator sends it (a POST of
    `api_post` with its form body; its task is not queued: `enqueue` is a no-op here, the job is timed apart)."""
    from unittest import mock

    headers = _headers(p, persona, kind)
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k not in ("Cookie", "Content-Type")}
    if kind == "web":
        client.cookies["sessionid"] = p[persona]["session"]
    if kind == "api_post":
        url, _, body = path.partition(" ")
        with mock.patch("verification.exports.enqueue"):
            return client.post(url, data=body, content_type="application/x-www-form-urlencoded", **extra)
    return client.get(path, **extra)


def query_counts(p: dict, eps: list) -> dict[str, int]:
    """SQL statements per request, in-process with Django's test client (this code only)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, persona, kind, path in eps:
        client = Client()
        _client_get(client, p, persona, kind, path)
        with CaptureQueriesContext(connection) as ctx:
            status = _client_get(client, p, persona, kind, path).status_code
        out[name] = len(ctx.captured_queries) if 200 <= status < 300 else -status
    return out


def in_process(p: dict, eps: list, repeats: int) -> None:
    """Each endpoint `repeats` times in this process (Django's test client, one request at a time): status,
    SQL statements, min and median ms. Less disturbed by a shared machine than the load runs. With BENCH_SLOW=1
    in the environment it also prints each endpoint's three slowest statements (BENCH_SLOW=all: every one, slowest first); with BENCH_CALLS=1 the Python
    function calls of one more request (cProfile: the same on a busy machine as on a quiet one, so a change to
    the Python side of a page shows even when the milliseconds are noise)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    print(f"\nin-process, {repeats} requests each (after one to warm)")
    print(
        f"{'endpoint':46} {'status':>6} {'SQL':>4} {'min ms':>8} {'median ms':>9}"
        + (" py calls" if os.environ.get("BENCH_CALLS") else "")
    )
    for name, persona, kind, path in eps:
        client = Client()
        _client_get(client, p, persona, kind, path)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                status = _client_get(client, p, persona, kind, path).status_code
            times.append(1000 * (time.perf_counter() - t))
        captured = list(ctx.captured_queries)  # before another request resets the connection's log
        statements = len(captured)
        calls = ""
        if os.environ.get("BENCH_CALLS"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(_client_get, client, p, persona, kind, path)
            calls = f" {pstats.Stats(profile).total_calls:9}"
        print(
            f"{name:46} {status:6} {statements:4} {min(times):8.1f} {statistics.median(times):9.1f}{calls}",
            flush=True,
        )
        if os.environ.get("BENCH_SLOW"):
            for q in sorted(captured, key=lambda q: -float(q["time"]))[: 100 if os.environ["BENCH_SLOW"] == "all" else 3]:
                print("   ", q["time"], q["sql"][:600], flush=True)


# --- serving and load ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    code: Path, url: str, port: int, conn_max_age: str | None, threads: int = 1, env_extra: dict | None = None
) -> subprocess.Popen:
    """gunicorn with 2 workers on `code`: sync workers (one request at a time each), or with `threads` > 1
    gthread workers of that many threads each (what the Dockerfile and docker-compose.yml run); `env_extra`
    on top of the environment (the cycle regime, a task broker)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "cpd.settings",
        "AXES_ENABLED": "0",
        "CELERY_BROKER_URL": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",  # 4xx answers are part of the load (a 409 for an approval already made)
        **(env_extra or {}),
    }
    if conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = conn_max_age
    else:
        env.pop("DB_CONN_MAX_AGE", None)
    cmd = [sys.executable, "-m", "gunicorn", "cpd.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    proc = subprocess.Popen(cmd, cwd=code, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"gunicorn did not start on port {port}")


def _headers(p: dict, persona: str, kind: str) -> dict:
    if kind == "anon":  # a public page or a feed: no login
        return {}
    if kind in ("api", "api_post"):
        api = {"Authorization": f"Token {p[persona]['token']}", "X-CPD-Role": str(p[persona]["role"])}
        return api | ({"Content-Type": "application/x-www-form-urlencoded"} if kind == "api_post" else {})
    return {"Cookie": f"sessionid={p[persona]['session']}"}


def server_of(name: str, kind: str) -> str:
    """Which server drives an endpoint of this code: the cycle regime's, the one with a task broker (a POST
    that queues a job), or the plain one."""
    if name.startswith("cycle:"):
        return "cycle"
    return "queue" if kind == "api_post" else "after"


def drive(port: int, path: str, headers: dict, seconds: float, concurrency: int) -> dict:
    """`concurrency` threads, each with a keep-alive connection, requesting `path` for `seconds` (a POST of
    the form body after a space in `path`, when it has one)."""
    path, _, body = path.partition(" ")
    method = "POST" if body else "GET"
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], []
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                conn.request(method, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 599
            mine.append(time.perf_counter() - t)
            if not 200 <= status < 300:
                bad.append(status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(latencies)

    def pct(q):
        return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {"n": len(lat), "rps": len(lat) / elapsed, "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=4.0, help="per endpoint per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers; production runs 4)")
    parser.add_argument("--reuse", action="store_true", help="keep the database's data (generated by an earlier run)")
    parser.add_argument("--before", type=Path, help="another checkout to serve alongside (e.g. main before the change)")
    parser.add_argument("--before-database", help="its database (generated with its own migrations unless --reuse)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--only", help="substrings separated by |: drive only endpoints whose name has one (and the ceiling)")
    parser.add_argument(
        "--in-process", type=int, default=0, metavar="N", help="time each endpoint N times in-process instead of serving it"
    )
    parser.add_argument("--skip", help="substrings separated by |: leave out endpoints whose name has one")
    parser.add_argument("--jobs", action="store_true", help="build each export job anew and print its time")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not datagen.is_postgres(url):
        print("bench_pages: needs DATABASE_URL=postgres://… (skipped)")
        return 0
    started = time.perf_counter()
    if args.before and args.before_database and not args.reuse:
        print(f"before: generating {args.teachers:,} teachers with {args.before}'s migrations", flush=True)
        _load_in(args.before, args.before_database, args.teachers)
    if not args.reuse:
        datagen.recreate_postgres(url)
    if args.reuse:
        datagen.migrate(url)  # the data stays; migrations added since it was generated are applied
    else:
        load(url, args.teachers)
    from accounts.models import Organisation, OrgKind
    from verification.services import statistics_refresh

    city_id = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().pk
    if not args.reuse:
        t = time.perf_counter()
        statistics_refresh(year=YEAR - 1)
        print(f"  stored statistics of {YEAR - 1} in {time.perf_counter() - t:.1f} s", flush=True)
    p = personas(city_id)
    extras(p)
    deep = deep_cursors(p)
    deep["lesser"] = single_ids(p, deep["lesser"], args.jobs)
    eps = _skip(_only(endpoints(p, deep, old=False), args.only), args.skip)
    cycle_eps = [e for e in _skip(_only(cycle_endpoints(p, None), args.only), args.skip) if e[0].startswith("cycle:")]
    cycle_counts: dict = {}
    if cycle_eps:  # a child with CPD_REGIME=cycle: the cycle data, then the counts (or the in-process timings)
        child = _cycle_child(url, p, args.only, args.skip, args.in_process)
        if args.in_process:
            in_process(p, eps, args.in_process)
            return 0
        cycle_counts = child["counts"]
        cycle_eps = [e for e in _skip(_only(cycle_endpoints(p, child["ids"]), args.only), args.skip) if e[0].startswith("cycle:")]
    if args.in_process:
        in_process(p, eps, args.in_process)
        return 0
    counts = query_counts(p, eps) | cycle_counts
    eps += cycle_eps
    from django.db import connections

    connections.close_all()

    servers = {"after": (ROOT, url, "60")}
    env_extra: dict[str, dict] = {}
    needed = {server_of(e[0], e[2]) for e in eps}
    redis = None
    if "cycle" in needed:
        servers["cycle"] = (ROOT, url, "60")
        env_extra["cycle"] = {"CPD_REGIME": "cycle"}
    if "queue" in needed:  # a broker takes the task: the request creates the job and returns, as in production
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        servers["queue"] = (ROOT, url, "60")
        env_extra["queue"] = {"CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0"}
    before_p = None
    if args.before:
        before_p = _personas_in(args.before, args.before_database or url, deep)
        # the same connection reuse as production (DB_CONN_MAX_AGE, read by every checkout since issue 14):
        # without it each of its requests opened a connection and its ceiling was a third of this code's
        servers["before"] = (args.before, args.before_database or url, "60")
    procs, ports = {}, {}
    try:
        for label, (code, db, cma) in servers.items():
            ports[label] = free_port()
            procs[label] = serve(code, db, ports[label], cma, threads=args.threads, env_extra=env_extra.get(label))
        results: dict[str, dict[str, list[dict]]] = {label: {} for label in servers if label in ("after", "before")}
        for _round in range(args.rounds):
            for label in results:
                who = p if label == "after" else before_p
                driven = eps if label == "after" else _only(endpoints(who, who["deep"], old=True), args.only)
                for name, persona, kind, path in driven:
                    port = ports[server_of(name, kind)] if label == "after" else ports[label]
                    drive(port, path, _headers(who, persona, kind), 0.3, 1)  # warm the worker
                    r = drive(port, path, _headers(who, persona, kind), args.seconds, args.concurrency)
                    results[label].setdefault(name, []).append(r)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=30)
    report = {}
    for label, per in results.items():
        ceiling = statistics.median(r["rps"] for r in per["ceiling /api/v1/me/"])
        print(
            f"\n{label} ({servers[label][0]}), {args.teachers:,} teachers, concurrency {args.concurrency}, 2 workers × {args.threads} threads"
        )
        print(f"{'endpoint':38} {'req/s':>7} {'share':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'SQL':>4} errors")
        for name, runs in per.items():
            row = {
                "rps": statistics.median(r["rps"] for r in runs),
                "p50": min(r["p50"] for r in runs),
                "p50_median": statistics.median(r["p50"] for r in runs),
                "p95": statistics.median(r["p95"] for r in runs),
                "p99": statistics.median(r["p99"] for r in runs),
                "errors": sorted({e for r in runs for e in r["errors"]}),
                "queries": counts.get(name) if label == "after" else None,
            }
            row["share"] = row["rps"] / ceiling if ceiling else 0
            report.setdefault(label, {})[name] = row
            q = "" if row["queries"] is None else str(row["queries"])
            print(
                f"{name:38} {row['rps']:7.1f} {row['share']:6.2f} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} {q:>4} {row['errors'] or ''}"
            )
    print(f"\nbench_pages: {time.perf_counter() - started:.0f} s in all (p50: min over rounds; p95/p99/req/s: median)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    bad = [n for n, r in report["after"].items() if r["errors"]]
    return 1 if bad else 0


def _only(eps: list, only: str | None) -> list:
    if not only:
        return eps
    wanted = [w.strip() for w in only.split("|") if w.strip()]
    return [e for e in eps if e[0].startswith("ceiling") or any(w in e[0] for w in wanted)]


def _skip(eps: list, skip: str | None) -> list:
    unwanted = [w.strip() for w in (skip or "").split("|") if w.strip()]
    return [e for e in eps if not any(w in e[0] for w in unwanted)]


def _load_in(code: Path, url: str, teachers: int) -> None:
    """Generate the data set with another checkout's migrations and models (a child process there)."""
    datagen.recreate_postgres(url)
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-load", str(teachers)],
        cwd=code,
        env={**os.environ, "DATABASE_URL": url, "CPD_BENCH_CODE": str(code)},
        check=True,
    )


def _personas_in(code: Path, url: str, deep_after: dict) -> dict:
    """Personas (and the OFFSET page numbers) in the other checkout's database, from a child there."""
    out = (
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child-personas"],
            cwd=code,
            env={**os.environ, "DATABASE_URL": url, "CPD_BENCH_CODE": str(code)},
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    p = json.loads(out)
    p["deep"] = {k: v for k, v in deep_after.items() if k.endswith("_page")}
    return p


def _cycle_child(url: str, p: dict, only: str | None, skip: str | None, in_process_n: int) -> dict:
    """This code with CPD_REGIME=cycle in a child process (the regime is read when Django starts): the cycle
    data, then the cycle endpoints' statement counts, or their in-process timings (printed)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child-cycle", str(in_process_n)],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "CPD_REGIME": "cycle",
            "CPD_BENCH_P": json.dumps(p),
            "CPD_BENCH_ONLY": only or "",
            "CPD_BENCH_SKIP": skip or "",
        },
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    lines = out.strip().splitlines()
    print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def _child_cycle(n: int) -> None:
    datagen.django_setup(os.environ["DATABASE_URL"])
    p = json.loads(os.environ["CPD_BENCH_P"])
    ids = cycle_data(p)
    eps = _skip(_only(cycle_endpoints(p, ids), os.environ.get("CPD_BENCH_ONLY") or None), os.environ.get("CPD_BENCH_SKIP"))
    eps = [e for e in eps if e[0].startswith("cycle:")]
    if n:
        in_process(p, eps, n)
        print(json.dumps({"ids": ids, "counts": {}}))
        return
    print(json.dumps({"ids": ids, "counts": query_counts(p, eps)}))


def _child(argv: list[str]) -> None:
    """Runs inside another checkout (cwd): its own code on sys.path ahead of this one's."""
    code = os.environ["CPD_BENCH_CODE"]
    sys.path.insert(0, code)
    for name in [m for m in sys.modules if m.startswith(("cpd", "accounts", "hours", "verification", "points"))]:
        del sys.modules[name]
    url = os.environ["DATABASE_URL"]
    if argv[0] == "--child-load":
        datagen.migrate(url)
        datagen.generate(int(argv[1]))
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(declarations_sql(cur, YEAR))
            cur.execute("VACUUM (ANALYZE) hours_declaration")  # as autovacuum would: index-only counts
        return
    datagen.django_setup(url)
    from accounts.models import Organisation, OrgKind

    city_id = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().pk
    p = personas(city_id)
    print(json.dumps(p))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child-cycle":
        _child_cycle(int(sys.argv[2]))
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        _child(sys.argv[1:])
        sys.exit(0)
    sys.exit(main())
