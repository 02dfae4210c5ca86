"""Second factor (TOTP + recovery codes) for city, district and province administrators and the Django admin."""

from __future__ import annotations

import datetime
import io
import re

import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.demo import DEMO_TOTP_KEY, seed_demo_mfa
from security.models import AuditEvent
from tests.conftest import PASSWORD, totp_code


def _log_in(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def _code_for_secret(base32_secret: str, at: float | None = None) -> str:
    import base64

    padded = base32_secret + "=" * (-len(base32_secret) % 8)
    totp = TOTP(base64.b32decode(padded))
    if at is not None:
        totp.time = at
    return str(totp.token()).zfill(6)


def test_teacher_needs_no_second_factor(world):
    assert _log_in("teacher_a1").get("/").status_code == 200


def test_city_admin_without_an_authenticator_is_sent_to_enrol_and_binds_one(world):
    client = _log_in("city_admin")
    response = client.get("/verification/runs/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/account/mfa/enrol/")
    page = response.content.decode()
    assert "<svg" in page  # the QR code, drawn on the page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    # The API refuses the half-logged-in session with a message.
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert "两步验证" in api.json()["detail"]

    wrong = client.post("/account/mfa/enrol/", {"code": "000000" if _code_for_secret(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "验证码不正确" in wrong.content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        response = client.post("/account/mfa/enrol/", {"code": _code_for_secret(secret), "next": "/verification/runs/"})
        assert response.status_code == 302
        codes_page = client.get(response.url).content.decode()
    codes = re.findall(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4})</code></li>", codes_page)
    assert len(codes) == 10
    assert client.get("/verification/runs/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(event="mfa_enrol", actor_username="city_admin").exists()


def test_district_admin_must_pass_the_code_at_every_login(world):
    totp_code(world.users["district_a_admin"])  # binds an authenticator
    client = _log_in("district_a_admin")
    response = client.get("/hours/review/")
    assert response.status_code == 302
    assert response.url.startswith("/account/mfa/verify/")
    bad = client.post("/account/mfa/verify/", {"code": "12"})
    assert "验证码不正确" in bad.content.decode()
    assert AuditEvent.objects.filter(event="mfa_failed", actor_username="district_a_admin").exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        ok = client.post("/account/mfa/verify/", {"code": totp_code(world.users["district_a_admin"]), "next": "/hours/review/"})
    assert ok.status_code == 302
    assert ok.url == "/hours/review/"
    assert client.get("/hours/review/").status_code == 200


def test_recovery_code_works_once(world):
    from security.mfa import recovery_codes_issue

    totp_code(world.users["city_admin"])
    codes = recovery_codes_issue(world.users["city_admin"])
    client = _log_in("city_admin")
    assert client.post("/account/mfa/verify/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(event="mfa_recovery_used").count() == 1
    again = _log_in("city_admin")
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5), tick=False):
        assert again.post("/account/mfa/verify/", {"code": codes[0]}).status_code == 200  # used up
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=10), tick=False):
        assert again.post("/account/mfa/verify/", {"code": codes[1]}).status_code == 302


def test_the_next_parameter_cannot_send_the_user_off_site(world):
    totp_code(world.users["city_admin"])
    client = _log_in("city_admin")
    response = client.post(
        "/account/mfa/verify/", {"code": totp_code(world.users["city_admin"]), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == "/"


def test_demo_administrators_share_the_printed_secret_and_the_command_prints_the_code(world):
    bound = seed_demo_mfa(["city_admin", "district_a_admin", "teacher_a1"])
    assert bound == ["city_admin", "district_a_admin"]
    device = TOTPDevice.objects.get(user=world.users["city_admin"], confirmed=True)
    assert device.key == DEMO_TOTP_KEY
    out = io.StringIO()
    call_command("totp_code", "city_admin", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    client = _log_in("city_admin")
    assert client.post("/account/mfa/verify/", {"code": code}).status_code == 302
    assert client.get("/").status_code == 200
