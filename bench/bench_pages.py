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
    created_at, updated_at, submitted_at)
SELECT t.id, {year}, CASE WHEN k.k = 1 THEN 'professional' ELSE 'elective' END, 'training',
       '外出培训 ' || k.k, '省教育厅', DATE '{year}-03-01', DATE '{year}-03-02', 6.0,
       'CERT-' || t.id || '-' || k.k, TRUE, TRUE,
       CASE WHEN k.k = 1 THEN 'approved' WHEN t.id % 7 = 0 THEN 'school_approved' WHEN t.id % 5 = 0 THEN 'submitted'
            ELSE 'approved' END,
       '[]', '', TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute' + k.k * INTERVAL '1 second',
       TIMESTAMPTZ '{year}-03-05 08:00+08' + (t.id % 100000) * INTERVAL '1 minute'
FROM accounts_teacher t CROSS JOIN (VALUES (1), (2), (3)) AS k(k)
WHERE k.k < 3 OR t.id % 2 = 0
"""


def load(url: str, teachers: int) -> dict:
    """Migrate, generate, add declarations, analyze (in this process: Django is set up on `url`)."""
    datagen.migrate(url)
    counts = datagen.generate(teachers)
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(DECLARATIONS_SQL.format(year=YEAR))
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
    """INSERT INTO hours_enrolment (state, reason, created_at, updated_at, district_id, teacher_id, project_id)
       WITH p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn, count(*) OVER () AS n FROM hours_trainingproject)
       SELECT (ARRAY['applied', 'principal_approved', 'district_approved', 'final', 'rejected'])[1 + t.id % 5], '',
              now() - (t.id % 200) * INTERVAL '1 hour', now() - (t.id % 200) * INTERVAL '1 hour', s.parent_id, t.id, p.id
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
    """INSERT INTO hours_enrolment (state, reason, created_at, updated_at, district_id, teacher_id, project_id)
       SELECT CASE WHEN t.id % 400 < 360 THEN 'final' ELSE 'applied' END, '', now() - (t.id % 200) * INTERVAL '1 hour',
              now() - (t.id % 200) * INTERVAL '1 hour', s.parent_id, t.id, {big}
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
    ] + ([] if old else lesser_endpoints(p, deep["lesser"]))


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


def query_counts(p: dict, eps: list) -> dict[str, int]:
    """SQL statements per request, in-process with Django's test client (this code only)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, persona, kind, path in eps:
        client = Client()
        headers = _headers(p, persona, kind)
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Cookie"}
        if kind == "web":
            client.cookies["sessionid"] = p[persona]["session"]
        client.get(path, **extra)
        with CaptureQueriesContext(connection) as ctx:
            status = client.get(path, **extra).status_code
        out[name] = len(ctx.captured_queries) if status == 200 else -status
    return out


def in_process(p: dict, eps: list, repeats: int) -> None:
    """Each endpoint `repeats` times in this process (Django's test client, one request at a time): status,
    SQL statements, min and median ms. Less disturbed by a shared machine than the load runs. With BENCH_SLOW=1
    in the environment it also prints each endpoint's three slowest statements; with BENCH_CALLS=1 the Python
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
        headers = _headers(p, persona, kind)
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Cookie"}
        if kind == "web":
            client.cookies["sessionid"] = p[persona]["session"]
        client.get(path, **extra)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                status = client.get(path, **extra).status_code
            times.append(1000 * (time.perf_counter() - t))
        captured = ctx.captured_queries  # a slice of connection.queries: the next request's reset empties it
        calls = ""
        if os.environ.get("BENCH_CALLS"):
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(client.get, path, **extra)
            calls = f" {pstats.Stats(profile).total_calls:9}"
        print(
            f"{name:46} {status:6} {len(captured):4} {min(times):8.1f} {statistics.median(times):9.1f}{calls}",
            flush=True,
        )
        if os.environ.get("BENCH_SLOW"):
            for q in sorted(captured, key=lambda q: -float(q["time"]))[:3]:
                print("   ", q["time"], q["sql"][:600], flush=True)


# --- serving and load ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(code: Path, url: str, port: int, conn_max_age: str | None, threads: int = 1) -> subprocess.Popen:
    """gunicorn with 2 workers on `code`: sync workers (one request at a time each), or with `threads` > 1
    gthread workers of that many threads each (what the Dockerfile and docker-compose.yml run)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "cpd.settings",
        "AXES_ENABLED": "0",
        "CELERY_BROKER_URL": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",  # 4xx answers are part of the load (a 409 for an approval already made)
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
    if kind == "api":
        return {"Authorization": f"Token {p[persona]['token']}", "X-CPD-Role": str(p[persona]["role"])}
    return {"Cookie": f"sessionid={p[persona]['session']}"}


def drive(port: int, path: str, headers: dict, seconds: float, concurrency: int) -> dict:
    """`concurrency` threads, each with a keep-alive connection, requesting `path` for `seconds`."""
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
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 599
            mine.append(time.perf_counter() - t)
            if status != 200:
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
    eps = _only(endpoints(p, deep, old=False), args.only)
    if args.in_process:
        in_process(p, eps, args.in_process)
        return 0
    counts = query_counts(p, eps)
    from django.db import connections

    connections.close_all()

    servers = {"after": (ROOT, url, "60")}
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
            procs[label] = serve(code, db, ports[label], cma, threads=args.threads)
        results: dict[str, dict[str, list[dict]]] = {label: {} for label in servers}
        for _round in range(args.rounds):
            for label in servers:
                who = p if label == "after" else before_p
                for name, persona, kind, path in _only(
                    endpoints(who, who["deep"] if label == "before" else deep, old=label == "before"), args.only
                ):
                    drive(ports[label], path, _headers(who, persona, kind), 0.3, 1)  # warm the worker
                    r = drive(ports[label], path, _headers(who, persona, kind), args.seconds, args.concurrency)
                    results[label].setdefault(name, []).append(r)
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
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
            cur.execute(DECLARATIONS_SQL.format(year=YEAR))
            cur.execute("VACUUM (ANALYZE) hours_declaration")  # as autovacuum would: index-only counts
        return
    datagen.django_setup(url)
    from accounts.models import Organisation, OrgKind

    city_id = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first().pk
    p = personas(city_id)
    print(json.dumps(p))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        _child(sys.argv[1:])
        sys.exit(0)
    sys.exit(main())
