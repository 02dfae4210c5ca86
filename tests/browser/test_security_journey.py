"""A city administrator binds an authenticator and logs in with a TOTP code; a teacher changes an issued password."""

from __future__ import annotations

import base64
import re
import time

from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.conftest import PASSWORD


def _code(secret: str, *, step_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = time.time() + 30 * step_ahead
    return str(totp.token()).zfill(6)


def test_city_admin_enrols_then_logs_in_with_a_totp_code(page, live_world):
    page.goto("/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill("city_admin")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/mfa/enrol/"))
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_test_id("otp-form").locator("input[name=code]").fill(_code(secret))
    page.get_by_test_id("otp-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page.get_by_role("link", name="验证结果")).to_be_visible()

    # Next login: the code from the same authenticator.
    page.get_by_role("button", name="退出").click()
    page.goto("/login/")
    form.locator("input[name=username]").fill("city_admin")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/mfa/verify/"))
    # A code is good once: the app's next code (accepted one step early, as for a slow clock) rather than a reused one.
    page.get_by_test_id("otp-form").locator("input[name=code]").fill(_code(secret, step_ahead=1))
    page.get_by_test_id("otp-form").locator("button[type=submit]").click()
    expect(page.get_by_role("link", name="验证结果")).to_be_visible()


def test_teacher_changes_an_issued_password_at_first_login(page, live_world):
    user = live_world.users["teacher_a1"]
    user.set_password("Issued-1234")
    user.must_change_password = True
    user.save()
    page.goto("/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill("teacher_a1")
    form.locator("input[name=password]").fill("Issued-1234")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/account/password/"))
    expect(page.get_by_test_id("must-change")).to_be_visible()
    pw = page.get_by_test_id("password-form")
    pw.locator("input[name=old_password]").fill("Issued-1234")
    pw.locator("input[name=new_password1]").fill("abcdefgh")
    pw.locator("input[name=new_password2]").fill("abcdefgh")
    pw.locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-new_password2").filter(has_text="至少3类")).to_be_visible()
    pw.locator("input[name=old_password]").fill("Issued-1234")
    pw.locator("input[name=new_password1]").fill("Yu-cai-2027")
    pw.locator("input[name=new_password2]").fill("Yu-cai-2027")
    pw.locator("button[type=submit]").click()
    expect(page.get_by_role("link", name="我的学时")).to_be_visible()


def test_the_csp_watch_catches_an_inline_handler(page, live_server):
    """The journeys' CSP check can fail: an inline handler injected into a page is blocked and reported."""
    from tests.browser.conftest import CSP_VIOLATIONS

    page.goto("/login/")
    page.evaluate(
        "() => { const b = document.createElement('button'); b.id = 'probe';"
        " b.setAttribute('onclick', 'document.title = \"pwned\"'); document.body.appendChild(b); }"
    )
    page.click("#probe")
    page.wait_for_timeout(200)
    assert page.title() != "pwned"
    assert any("Content Security Policy" in v for v in CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()


def test_school_admin_finds_a_teacher_by_id_number_without_it_reaching_a_url(page, live_world, login):
    teacher = live_world.teachers["teacher_a1"]
    login("school_a1_admin")
    page.goto("/roster/")
    filters = page.get_by_test_id("roster-filters")
    filters.locator("input[name=q]").fill(teacher.id_number)
    filters.get_by_role("button").click()
    expect(page).to_have_url(re.compile(rf"/roster/{teacher.pk}/$"))
    expect(page.get_by_role("heading", name=teacher.name)).to_be_visible()
    assert teacher.id_number not in page.content()
    # The guard every journey runs under does notice an ID number in a URL.
    from tests.browser.conftest import CSP_VIOLATIONS

    page.goto(f"/roster/?q={teacher.id_number}")
    assert any("ID number in a URL" in v for v in CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()
