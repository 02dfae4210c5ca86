#!/usr/bin/env python3
"""Production-shape smoke test: the processes docker-compose.yml runs, without containers, working together.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python ops/smoke.py

Starts, with production settings (CPD_PRODUCTION=1, a random real secret key, PostgreSQL, Redis),
exactly the web, worker and beat commands of docker-compose.yml (read from the file; only the bind
address and port change), after the image's build step (collectstatic). Then, through the API only:
imports a roster for 12 schools, imports public-subject hours (parsed by the worker), files and
reviews a declaration, runs a verification that the worker executes in chunks, downloads an export;
then starts a second run, SIGKILLs the worker in the middle of it, starts the worker again and checks
that the run finishes with the same results as the uninterrupted one. Prints a timeline.

Uses its own database (created and dropped), free ports and a bounded total time: it fails, never hangs.
The accounts are created by an ORM setup step (as an operator's provisioning would); everything else
goes through the HTTP API. No TLS here, so SECURE_SSL_REDIRECT=0 (behind the real proxy it stays on).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = int(os.environ.get("SMOKE_BUDGET_SECONDS", "600"))
SCHOOLS = 12
TEACHERS_PER_SCHOOL = 10
YEAR = 2026
PASSWORD = "Smoke-test-Passw0rd!"
# The administrators' authenticator (TOTP, RFC 6238: 30 s steps, 6 digits, HMAC-SHA1), hex as django-otp stores it.
TOTP_KEY = secrets.token_hex(20)


def totp_now(hex_key: str) -> str:
    counter = int(time.time()) // 30
    digest = hmac.new(bytes.fromhex(hex_key), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return str((int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF) % 1_000_000).zfill(6)


class SmokeFailure(Exception):
    pass


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + BUDGET_SECONDS
        self.steps: list[tuple[str, float]] = []
        self._step_started = self.started

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def step(self, name: str) -> None:
        now = time.monotonic()
        self.steps.append((name, now - self._step_started))
        self._step_started = now
        print(f"[smoke] {now - self.started:7.1f}s  done: {name}", flush=True)

    def timeline(self) -> str:
        lines = ["", "Production-shape smoke test timeline (seconds per step):"]
        lines += [f"  {seconds:7.1f}  {name}" for name, seconds in self.steps]
        lines.append(f"  {time.monotonic() - self.started:7.1f}  total")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compose_commands() -> dict[str, list[str]]:
    """The web, worker and beat commands exactly as docker-compose.yml runs them (only the bind changes)."""
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: services[name]["command"] for name in ("web", "worker", "beat")}


def compose_environment() -> dict[str, str]:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {k: str(v) for k, v in compose["services"]["web"]["environment"].items()}


# --- HTTP -------------------------------------------------------------------------------------------


class Api:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, *, token: str | None = None, data=None, files=None, raw=False, timeout=30):
        headers = {"Accept": "application/json", "X-Request-ID": f"smoke-{uuid.uuid4().hex[:12]}"}
        if token:
            headers["Authorization"] = f"Token {token}" if not token.startswith("Bearer ") else token
        body = None
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for key, value in (data or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
            for key, (filename, content, content_type) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n".encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                content = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            content, status = exc.read(), exc.code
        except (urllib.error.URLError, OSError) as exc:  # not listening yet, reset, timed out
            return 0, f"{type(exc).__name__}: {exc}"
        if raw:
            return status, content
        try:
            return status, json.loads(content or b"null")
        except json.JSONDecodeError:
            return status, content.decode(errors="replace")[:500]

    def expect(self, status: int, method: str, path: str, **kwargs):
        got, body = self.call(method, path, **kwargs)
        if got != status:
            raise SmokeFailure(f"{method} {path}: expected {status}, got {got}: {str(body)[:800]}")
        return body


def wait_for(what: str, check, clock: Clock, *, timeout: float, interval: float = 0.2):
    limit = time.monotonic() + min(timeout, clock.remaining())
    last = None
    while time.monotonic() < limit:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise SmokeFailure(f"timed out waiting for {what} (last: {str(last)[:300]})")


# --- files ------------------------------------------------------------------------------------------


def id_number(n: int) -> str:
    from stdnum.cn import ric

    body = f"440104{1970 + n % 30}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def xlsx(headers: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def certificate_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, "Training certificate, 12 hours")
    pdf.save()
    return buffer.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SETUP = """
from accounts.models import Organisation, OrgKind, Role, RoleKind, User
city = Organisation.objects.create(code="4401", name="广州市", kind=OrgKind.CITY)
district = Organisation.objects.create(code="440104", name="越秀区", kind=OrgKind.DISTRICT, parent=city)
from django_otp.plugins.otp_totp.models import TOTPDevice
def user(username, kind, org):
    u = User.objects.create_user(username=username, password={password!r}, name=username)
    Role.objects.create(user=u, kind=kind, organisation=org)
    if kind in (RoleKind.CITY_ADMIN, RoleKind.DISTRICT_ADMIN):  # administrators pass a second factor
        TOTPDevice.objects.create(user=u, name="smoke", key={totp_key!r}, confirmed=True)
user("smoke-city", RoleKind.CITY_ADMIN, city)
user("smoke-district", RoleKind.DISTRICT_ADMIN, district)
for i in range({schools}):
    school = Organisation.objects.create(code=f"S{{i:02d}}", name=f"冒烟测试学校{{i}}", kind=OrgKind.SCHOOL, parent=district)
    user(f"smoke-school-{{i}}", RoleKind.SCHOOL_ADMIN, school)
print("setup ok")
"""

TEACHER_ACCOUNT = """
from accounts.models import Role, RoleKind, Teacher, User
teacher = Teacher.objects.filter(school__code="S00").order_by("pk").first()
u = User.objects.create_user(username="smoke-teacher", password={password!r}, name="smoke teacher")
Role.objects.create(user=u, kind=RoleKind.TEACHER, organisation=teacher.school)
Teacher.objects.filter(pk=teacher.pk).update(user=u)
print("teacher ok")
"""


# --- the processes ----------------------------------------------------------------------------------


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: str) -> None:
        log = open(self.logs / f"{name}.log", "ab")
        self.running[name] = subprocess.Popen(
            ["sh", "-c", command], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)


def manage(env: dict[str, str], *args: str, code: str | None = None) -> str:
    command = [sys.executable, "manage.py", *args] + (["-c", code] if code else [])
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SmokeFailure(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def psql_admin(database_url: str, *args: str) -> None:
    parts = urllib.parse.urlparse(database_url)
    base = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    subprocess.run([args[0], *base, *args[1:]], check=True, capture_output=True, timeout=60)


# --- the scenario -----------------------------------------------------------------------------------


def results_of(api: Api, token: str) -> dict[int, tuple]:
    found, page = {}, f"/api/v1/results/?year={YEAR}&page_size=500"
    while page:
        body = api.expect(200, "GET", page, token=token)
        for r in body["results"]:
            found[r["teacher"]] = (r["status"], r["public"], r["professional"], r["elective"], r["total"])
        page = body.get("next") and body["next"].replace(api.base, "")
    return found


def wait_run(api: Api, token: str, run_id: int, clock: Clock, processes: Processes, timeout: float) -> dict:
    def done():
        processes.check_alive()
        run = api.expect(200, "GET", f"/api/v1/verification-runs/{run_id}/", token=token)
        if run["status"] in ("failed", "interrupted"):
            raise SmokeFailure(f"run {run_id} ended {run['status']}")
        return run if run["status"] == "done" else None

    return wait_for(f"verification run {run_id}", done, clock, timeout=timeout, interval=0.2)


def scenario(api: Api, env: dict[str, str], processes: Processes, commands: dict[str, str], clock: Clock) -> dict:
    ops = {"Authorization": f"Bearer {env['CPD_OPS_TOKEN']}"}

    # Health, as the load balancer and the orchestrator see it.
    live = api.call("GET", "/health/live/")
    if live[0] != 200:
        raise SmokeFailure(f"liveness: {live}")
    wait_for(
        "readiness (database, migrations, broker, storage, beat tick)",
        lambda: api.call("GET", "/health/ready/", token=ops["Authorization"])[0] == 200,
        clock,
        timeout=150,
        interval=1,
    )
    clock.step("health: live, then ready (beat ticked)")

    manage(env, "shell", code=SETUP.format(password=PASSWORD, schools=SCHOOLS, totp_key=TOTP_KEY))
    clock.step("setup (ORM): organisations and admin accounts")

    def login(username: str) -> str:
        data = {"username": username, "password": PASSWORD}
        if username in ("smoke-city", "smoke-district"):
            data["otp"] = totp_now(TOTP_KEY)
        return api.expect(200, "POST", "/api/v1/auth/token/", data=data)["token"]

    city, district = login("smoke-city"), login("smoke-district")
    schools = [login(f"smoke-school-{i}") for i in range(SCHOOLS)]
    teachers: list[tuple[str, str]] = []
    headers = [
        "姓名",
        "身份证号",
        "学校代码",
        "性别",
        "学段",
        "任教学科",
        "职称",
        "岗位类型",
        "参加工作日期",
        "手机号",
        "电子邮箱",
    ]
    for i, token in enumerate(schools):
        rows = []
        for j in range(TEACHERS_PER_SCHOOL):
            number = id_number(i * 100 + j + 1)
            teachers.append((number, f"冒烟教师{i}-{j}"))
            rows.append(
                [f"冒烟教师{i}-{j}", number, f"S{i:02d}", "女", "小学", "语文", "一级教师", "专任教师", "2010-09-01", "", ""]
            )
        record = api.expect(
            201, "POST", "/api/v1/roster-imports/", token=token, files={"file": ("roster.xlsx", xlsx(headers, rows), XLSX)}
        )
        record = wait_for(
            "roster dry run",
            lambda r=record, t=token: (lambda got: got if got["status"] not in ("pending", "validating") else None)(
                api.expect(200, "GET", f"/api/v1/roster-imports/{r['id']}/", token=t)
            ),
            clock,
            timeout=60,
        )
        if record["status"] != "validated":
            raise SmokeFailure(f"roster import of school {i}: {record}")
        confirmed = api.expect(200, "POST", f"/api/v1/roster-imports/{record['id']}/confirm/", token=token)
        if confirmed["status"] != "imported":
            wait_for(
                "roster import",
                lambda r=record, t=token: (
                    api.expect(200, "GET", f"/api/v1/roster-imports/{r['id']}/", token=t)["status"] == "imported"
                ),
                clock,
                timeout=60,
            )
    clock.step(f"roster import (API): {len(teachers)} teachers in {SCHOOLS} schools")

    # Public-subject hours for everyone except the last school (so some teachers fail), parsed by the worker.
    rows = [[number, name, "师德师风专题", 30, YEAR] for number, name in teachers[:-TEACHERS_PER_SCHOOL]]
    upload = api.expect(
        201,
        "POST",
        "/api/v1/hours-imports/",
        token=city,
        data={"kind": "provincial"},
        files={"file": ("provincial.xlsx", xlsx(["身份证号", "姓名", "专题名称", "学时", "年度"], rows), XLSX)},
    )

    def import_status(status: str):
        got = api.expect(200, "GET", f"/api/v1/hours-imports/{upload['id']}/", token=city)
        if got["status"] == "failed":
            raise SmokeFailure(f"hours import failed: {got.get('errors')}")
        return got if got["status"] == status else None

    wait_for("hours dry run in the worker", lambda: import_status("validated"), clock, timeout=60)
    api.call("POST", f"/api/v1/hours-imports/{upload['id']}/confirm/", token=city)
    wait_for("hours import in the worker", lambda: import_status("imported"), clock, timeout=60)
    clock.step(f"hours import (API, parsed and imported by the worker): {len(rows)} rows")

    manage(env, "shell", code=TEACHER_ACCOUNT.format(password=PASSWORD))
    teacher = login("smoke-teacher")
    declaration = api.expect(
        201,
        "POST",
        "/api/v1/declarations/",
        token=teacher,
        data={
            "year": YEAR,
            "category": "professional",
            "activity_type": "authority_training",
            "title": "新课标专题培训",
            "organiser": "广州市教育研究院",
            "start_date": f"{YEAR}-03-02",
            "end_date": f"{YEAR}-03-03",
            "hours": "12",
            "certificate_number": "SMOKE-0001",
            "certificate_in_chinese": "true",
            "certificate_states_hours": "true",
            "submit": "true",
        },
        files={"certificate": ("certificate.pdf", certificate_pdf(), "application/pdf")},
    )
    api.expect(200, "POST", f"/api/v1/declarations/{declaration['id']}/approve/", token=schools[0])
    approved = api.expect(200, "POST", f"/api/v1/declarations/{declaration['id']}/approve/", token=district)
    if approved["state"] != "approved":
        raise SmokeFailure(f"declaration not approved: {approved['state']}")
    clock.step("declaration filed by a teacher, approved by the school and the district (API)")

    # The city sets this year's requirement to the public subjects only: the last school (no hours) fails.
    api.expect(
        200,
        "PATCH",
        f"/api/v1/policies/{YEAR}/",
        token=city,
        data={"min_total": "30", "min_public": "30", "min_professional": "0", "min_elective": "0"},
    )
    first = api.expect(201, "POST", "/api/v1/verification-runs/", token=city, data={"year": YEAR})
    run = wait_run(api, city, first["id"], clock, processes, timeout=120)
    baseline = results_of(api, city)
    if len(baseline) != len(teachers):
        raise SmokeFailure(f"run 1 verified {len(baseline)} of {len(teachers)} teachers")
    expected = {"passed": len(teachers) - TEACHERS_PER_SCHOOL, "failed": TEACHERS_PER_SCHOOL}
    if run["counts"] != expected:
        raise SmokeFailure(f"run 1 counts {run['counts']}, expected {expected}")
    clock.step(f"verification run 1 by the worker: {run['total']} teachers, counts {run['counts']}")

    job = api.expect(201, "POST", "/api/v1/exports/", token=city, data={"kind": "results", "year": YEAR})
    wait_for(
        "export",
        lambda: api.expect(200, "GET", f"/api/v1/exports/{job['id']}/", token=city)["status"] == "ready",
        clock,
        timeout=60,
    )
    status, content = api.call("GET", f"/api/v1/exports/{job['id']}/download/", token=city, raw=True)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    exported = sum(1 for _ in sheet.iter_rows()) - 1
    if status != 200 or exported != len(teachers):
        raise SmokeFailure(f"export download: {status}, {exported} rows")
    clock.step(f"export built by the worker and downloaded (API): {exported} rows")

    # Second run: SIGKILL the worker while chunks are in flight, start it again, same results.
    second = api.expect(201, "POST", "/api/v1/verification-runs/", token=city, data={"year": YEAR})
    killed_at = None
    limit = time.monotonic() + min(60, clock.remaining())
    while time.monotonic() < limit:
        got = api.expect(200, "GET", f"/api/v1/verification-runs/{second['id']}/", token=city)
        if got["status"] != "running":
            break
        if 0 < got["done"] < got["total"]:
            processes.kill("worker", signal.SIGKILL)
            killed_at = got["done"]
            break
        time.sleep(0.01)
    if killed_at is None:
        raise SmokeFailure(f"could not catch run 2 mid-way (status {got['status']}, done {got['done']}/{got['total']})")
    after_kill = api.expect(200, "GET", f"/api/v1/verification-runs/{second['id']}/", token=city)
    if after_kill["status"] != "running":
        raise SmokeFailure(f"run 2 was not left running after the kill: {after_kill['status']}")
    clock.step(f"run 2 started; worker SIGKILLed with {killed_at}/{after_kill['total']} teachers done")

    processes.start("worker", commands["worker"])
    run2 = wait_run(api, city, second["id"], clock, processes, timeout=180)
    again = results_of(api, city)
    if again != baseline or run2["counts"] != run["counts"]:
        diff = {k: (baseline.get(k), again.get(k)) for k in set(baseline) | set(again) if baseline.get(k) != again.get(k)}
        raise SmokeFailure(f"run 2 differs from run 1: counts {run2['counts']} vs {run['counts']}, {list(diff.items())[:5]}")
    clock.step(f"worker restarted; run 2 finished with the same results as run 1 ({run2['counts']})")

    status, metrics = api.call("GET", "/metrics", token=ops["Authorization"], raw=True)
    anonymous, _ = api.call("GET", "/metrics", raw=True)
    text = metrics.decode()
    names = sorted({line.split()[2] for line in text.splitlines() if line.startswith("# TYPE cpd_")})
    if status != 200 or anonymous != 401 or "cpd_verification_runs" not in names:
        raise SmokeFailure(f"metrics: {status}, anonymous {anonymous}, {names}")
    clock.step(f"metrics: {len(names)} cpd series, anonymous refused")
    return {"counts": run["counts"], "killed_at": killed_at, "metrics": names}


def main() -> int:
    base_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not base_url.startswith("postgres") or not redis_url:
        print("smoke: needs DATABASE_URL=postgres://... and REDIS_URL=redis://...", file=sys.stderr)
        return 2
    clock = Clock()
    name = f"cpd_smoke_{os.getpid()}"
    parts = urllib.parse.urlparse(base_url)
    database_url = parts._replace(path=f"/{name}").geturl()
    work = Path(tempfile.mkdtemp(prefix="cpd-smoke-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "CPD_"))},
        **compose_environment(),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "CPD_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DJANGO_TRUST_X_FORWARDED_PROTO": "0",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "PRIVATE_MEDIA_ROOT": str(work / "private"),
        "STATIC_ROOT": str(work / "static"),
        "CPD_OPS_TOKEN": secrets.token_urlsafe(24),
        "CPD_VERIFY_CHUNK_TEACHERS": str(TEACHERS_PER_SCHOOL),
        # A task taken by the killed worker goes back to the queue after this (production: an hour).
        "CELERY_VISIBILITY_TIMEOUT": "10",
        "CELERY_UNACKED_RESTORE_INTERVAL": "2",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "LOG_LEVEL": "INFO",
    }
    commands = compose_commands()
    commands["web"] = commands["web"].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    if f"127.0.0.1:{port}" not in commands["web"]:
        raise SmokeFailure("the compose web command no longer binds 0.0.0.0:8000; update ops/smoke.py")
    processes = Processes(env, work)
    redis_db = redis_url.rsplit("/", 1)[-1]
    try:
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True, timeout=10)
        psql_admin(base_url, "createdb", name)
        manage(env, "collectstatic", "--noinput", "-v", "0")
        clock.step("image build step: collectstatic (manifest storage)")
        # As docker-compose.yml orders them: the worker and beat once the web container is live (migrated).
        print(f"[smoke] web: {shlex.join(['sh', '-c', commands['web']])}", flush=True)
        processes.start("web", commands["web"])
        api = Api(f"http://127.0.0.1:{port}")
        wait_for(
            "gunicorn (after migrate)",
            lambda: (
                processes.check_alive() or api.call("GET", "/health/live/", timeout=2)[0] == 200 if _port_open(port) else None
            ),
            clock,
            timeout=180,
            interval=0.5,
        )
        for process in ("worker", "beat"):
            print(f"[smoke] {process}: {shlex.join(['sh', '-c', commands[process]])}", flush=True)
            processes.start(process, commands[process])
        clock.step("web (migrate + gunicorn) live; worker and beat started")
        outcome = scenario(api, env, processes, commands, clock)
    except SmokeFailure as exc:
        print(f"\nSMOKE TEST FAILED: {exc}", file=sys.stderr)
        for process in ("web", "worker", "beat"):
            print(f"\n--- {process} log (tail) ---\n{processes.tail(process)}", file=sys.stderr)
        print(clock.timeline(), file=sys.stderr)
        return 1
    finally:
        processes.stop_all()
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True, timeout=10)
        try:
            psql_admin(base_url, "dropdb", "--if-exists", name)
        except Exception as exc:  # cleanup must not hide the outcome
            print(f"could not drop {name}: {exc}", file=sys.stderr)
    print(clock.timeline())
    print(f"verification counts: {outcome['counts']}; worker killed at {outcome['killed_at']} teachers done")
    print(f"metrics exposed: {', '.join(outcome['metrics'])}")
    print(f"(redis db {redis_db}, database {name} dropped)")
    return 0


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    sys.exit(main())
