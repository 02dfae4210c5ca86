"""Crunch benchmark: the year-end rush on the write path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cpd_scale_crunch .venv/bin/python bench/bench_crunch.py --teachers 20000

Teachers create and submit declarations with a 200 KB PDF (API, multipart) while the schools of one
district approve what waits for them (singly and in bulk) and the district approves what the
schools passed (singly and in bulk), all at once against gunicorn (2 sync workers, DEBUG off):
2 teacher threads, 1 school thread (round-robin over up to 20 school admins), 1 district thread.
Before the crunch, `/api/v1/me/` alone at concurrency 4 gives the ceiling.

Prints the rates and p50/p95 of each kind of request, the create+submit rate as a share of the
ceiling, and checks at the end that every declaration approved during the crunch has exactly one
ledger entry and that no other has any. The data set is bench/datagen.py's plus about 2.5
declarations per teacher (so that the duplicate check on submit searches a realistic table).
PostgreSQL only; the database named by DATABASE_URL is dropped and recreated.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages
import datagen

CRUNCH_YEAR = 2026  # an open year: declarations accepted, reviews open


def setup_people(teachers_per_school: int) -> dict:
    """Teacher users (token + role) for up to 20 schools of the first district, their school admins,
    the district admin."""
    from django.db.models import Count

    from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User
    from security.services import api_token_issue

    city = Organisation.objects.filter(kind=OrgKind.CITY).order_by("pk").first()
    district = Organisation.objects.filter(parent=city, kind=OrgKind.DISTRICT).order_by("code").first()
    schools = list(
        Organisation.objects.filter(parent=district, kind=OrgKind.SCHOOL).annotate(n=Count("teachers")).order_by("-n", "pk")[:20]
    )

    def person(username: str, kind: str, org_id: int) -> dict:
        user, _ = User.objects.get_or_create(username=username, defaults={"name": username})
        role, _ = Role.objects.get_or_create(user=user, kind=kind, organisation_id=org_id)
        _token, secret = api_token_issue(user=user, name="bench_crunch")  # hashed tokens: a new one per run
        return {"user": user.pk, "role": role.pk, "token": secret}

    teachers, school_admins = [], []
    for school in schools:
        school_admins.append(person(f"crunch-school-{school.pk}", RoleKind.SCHOOL_ADMIN, school.pk))
        for t in Teacher.objects.filter(school=school, status="active").order_by("pk")[:teachers_per_school]:
            p = person(f"crunch-teacher-{t.pk}", RoleKind.TEACHER, school.pk)
            Teacher.objects.filter(pk=t.pk).update(user_id=p["user"])
            teachers.append(p)
    return {
        "teachers": teachers,
        "schools": school_admins,
        "district": person(f"crunch-district-{district.pk}", RoleKind.DISTRICT_ADMIN, district.pk),
    }


def headers(p: dict) -> dict:
    return {"Authorization": f"Token {p['token']}", "X-CPD-Role": str(p["role"])}


PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"


def multipart(fields: dict, files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content, ctype in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.items: dict[str, int] = {}
        self.statuses: dict[str, dict[int, int]] = {}

    def add(self, kind: str, seconds: float, status: int, items: int = 1):
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            self.items[kind] = self.items.get(kind, 0) + (items if status < 300 else 0)
            self.statuses.setdefault(kind, {}).setdefault(status, 0)
            self.statuses[kind][status] += 1


def request(conn, method, path, hdrs, body=None):
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, time.perf_counter() - t


def teacher_loop(port, people, stop, rec, seed):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    n = 0
    while time.time() < stop:
        p = rnd.choice(people["teachers"])
        n += 1
        cert = f"CRUNCH-{seed}-{n}-{rnd.random():.9f}"
        pdf = PDF_HEAD + os.urandom(200 * 1024)
        body, ctype = multipart(
            {
                "year": CRUNCH_YEAR,
                "category": "professional",
                "activity_type": "authority_training",
                "title": f"年末集中培训 {n}",
                "organiser": "区教师发展中心",
                "start_date": f"{CRUNCH_YEAR}-03-02",
                "end_date": f"{CRUNCH_YEAR}-03-03",
                "hours": "12",
                "certificate_number": cert,
                "certificate_in_chinese": "true",
                "certificate_states_hours": "true",
                "submit": "true",
            },
            [("certificate", "certificate.pdf", pdf, "application/pdf")],
        )
        status, _data, secs = request(conn, "POST", "/api/v1/declarations/", {**headers(p), "Content-Type": ctype}, body)
        rec.add("create+submit", secs, status)
    conn.close()


def reviewer_loop(port, reviewers, stop, rec, level):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    i = 0
    while time.time() < stop:
        p = reviewers[i % len(reviewers)]
        i += 1
        status, data, secs = request(conn, "GET", f"/api/v1/declarations/?queue=mine&year={CRUNCH_YEAR}&page_size=60", headers(p))
        rec.add(f"{level} queue", secs, status)
        ids = [d["id"] for d in json.loads(data)["results"]] if status == 200 else []
        if not ids:
            time.sleep(0.2)
            continue
        status, _data, secs = request(conn, "POST", f"/api/v1/declarations/{ids[0]}/approve/", headers(p))
        rec.add(f"{level} approve (single)", secs, status)
        if len(ids) > 1:
            body = json.dumps({"ids": ids[1:]}).encode()
            status, data, secs = request(
                conn,
                "POST",
                "/api/v1/declarations/bulk-approve/",
                {**headers(p), "Content-Type": "application/json"},
                body,
            )
            approved = len(json.loads(data)["approved"]) if status == 200 else 0
            rec.add(f"{level} approve (bulk)", secs, status, items=approved)
    conn.close()


def check_ledger(first_new_id: int) -> dict:
    """Every declaration approved in the crunch has exactly one ledger entry; no other new one has any."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """SELECT d.state, COUNT(*), SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END),
                      SUM(CASE WHEN n = 0 THEN 1 ELSE 0 END)
               FROM hours_declaration d
               CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM hours_ledgerentry l WHERE l.declaration_id = d.id) c
               WHERE d.id >= %s GROUP BY d.state""",
            [first_new_id],
        )
        rows = {
            state: {"declarations": n, "one": one, "more": more, "none": none} for state, n, one, more, none in cur.fetchall()
        }
    approved = rows.get("approved", {"declarations": 0, "one": 0, "more": 0, "none": 0})
    others_with_entries = sum(r["one"] + r["more"] for s, r in rows.items() if s != "approved")
    ok = approved["one"] == approved["declarations"] and others_with_entries == 0
    return {"by_state": rows, "ok": ok}


def summarise(rec: Recorder, seconds: float) -> dict:
    out = {}
    for kind, times in sorted(rec.times.items()):
        lat = sorted(times)
        out[kind] = {
            "requests": len(lat),
            "items": rec.items.get(kind, 0),
            "rate": rec.items.get(kind, 0) / seconds,
            "p50": 1000 * statistics.median(lat),
            "p95": 1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))],
            "statuses": rec.statuses[kind],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, default=20_000)
    parser.add_argument("--filers-per-school", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not datagen.is_postgres(url):
        print("bench_crunch: needs DATABASE_URL=postgres://… (skipped)")
        return 0
    started = time.perf_counter()
    if not args.reuse:
        datagen.recreate_postgres(url)
    datagen.django_setup(url)
    if not args.reuse:
        bench_pages.load(url, args.teachers)
    people = setup_people(args.filers_per_school)
    from django.db import connection, connections

    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM hours_declaration")
        first_new_id = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM hours_declaration")
        existing = cur.fetchone()[0]
    connections.close_all()
    print(
        f"  {len(people['teachers']):,} teachers filing in {len(people['schools'])} schools, one district reviewing; "
        f"{existing:,} declarations already in the table",
        flush=True,
    )

    port = bench_pages.free_port()
    server = bench_pages.serve(datagen.ROOT, url, port, "60")
    try:
        p = people["teachers"][0]
        bench_pages.drive(port, "/api/v1/me/", headers(p), 0.5, 1)
        ceiling = bench_pages.drive(port, "/api/v1/me/", headers(p), 5, 4)
        rec = Recorder()
        stop = time.time() + args.seconds
        threads = [
            threading.Thread(target=teacher_loop, args=(port, people, stop, rec, 1)),
            threading.Thread(target=teacher_loop, args=(port, people, stop, rec, 2)),
            threading.Thread(target=reviewer_loop, args=(port, people["schools"], stop, rec, "school")),
            threading.Thread(target=reviewer_loop, args=(port, [people["district"]], stop, rec, "district")),
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = summarise(rec, elapsed)
    check = check_ledger(first_new_id)
    print(
        f"\ncrunch: {elapsed:.0f} s, gunicorn 2 workers; ceiling /api/v1/me/ alone: {ceiling['rps']:.1f} req/s, p50 {ceiling['p50']:.0f} ms"
    )
    print(f"{'request':28} {'requests':>8} {'items/s':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses")
    for kind, s in summary.items():
        print(f"{kind:28} {s['requests']:8} {s['rate']:8.1f} {s['p50']:8.0f} {s['p95']:8.0f}  {s['statuses']}")
    create = summary.get("create+submit", {"rate": 0})
    print(f"create+submit rate / ceiling: {create['rate'] / ceiling['rps']:.2f} (goal ≥ 0.33)")
    print(f"ledger check (one entry per approval, none otherwise): {'ok' if check['ok'] else 'FAILED'} {check['by_state']}")
    print(f"load average {os.getloadavg()[0]:.1f}; whole benchmark {time.perf_counter() - started:.0f} s")
    errors = [k for k, s in summary.items() if any(code >= 500 for code in s["statuses"])]
    return 0 if check["ok"] and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
