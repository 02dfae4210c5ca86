"""Browser journeys: Playwright drives the system Chromium against pytest-django's live server.

The whole folder is skipped where there is no /usr/bin/chromium (Playwright may not
download its own browser here) or when CPD_BROWSER_TESTS=0.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, World, otp_device, totp_code

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).parent

# Playwright's sync API keeps an asyncio loop running in the test thread for the whole
# session; without this Django's ORM refuses to run there ("async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def _skip_reason() -> str | None:
    if os.environ.get("CPD_BROWSER_TESTS") == "0":
        return "browser journeys disabled by CPD_BROWSER_TESTS=0"
    if not CHROMIUM.exists():
        return f"browser journeys need the system Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    # Collection hooks in a conftest see every item of the session, so keep to this folder.
    reason = _skip_reason()
    for item in items:
        if HERE not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Headless Chromium asks for English (Accept-Language: en-US) and LocaleMiddleware
    # obliges; the platform's users browse in Chinese, so the journeys do too.
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The personas are 14 users; PBKDF2 at full strength costs ~0.3 s for each hash.

    The live server runs in this process, so the login form checks passwords with the
    same (fast) hasher the factories used.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Relative `page.goto("/roster/")` calls go to the live server.

    Because every `page` depends on this, every journey also gets pytest-django's
    transactional database, so the server thread sees what the test wrote.
    """
    return live_server.url


@pytest.fixture
def live_world(live_server, world) -> World:
    """The shared personas, committed where the live server can see them.

    `world` asks for `db`, but pytest-django picks TransactionTestCase for any test
    whose fixture closure holds `live_server`, so the rows are really committed.
    """
    return world


CSP_VIOLATIONS: list[str] = []
# A resident ID number (17 digits and a check character) anywhere in a URL the pages request.
ID_NUMBER_IN_URL = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def watch_csp(page: Page) -> Page:
    """Collect the browser's Content-Security-Policy complaints (console errors) for this page,
    and any request whose URL carries a full ID number (it would land in access logs)."""
    if not getattr(page, "_cpd_csp_watched", False):
        page._cpd_csp_watched = True

        def _on_console(message):
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
                CSP_VIOLATIONS.append(f"{page.url}: {message.text}")

        def _on_request(request):
            if ID_NUMBER_IN_URL.search(request.url):
                CSP_VIOLATIONS.append(f"ID number in a URL: {request.url}")

        page.on("console", _on_console)
        page.on("request", _on_request)
    return page


@pytest.fixture
def page(page):
    return watch_csp(page)


@pytest.fixture(autouse=True)
def _no_csp_violations():
    """Every journey runs under the production CSP (a blocked inline script or handler fails it)
    and never puts a full ID number in a URL."""
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "\n".join(CSP_VIOLATIONS)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form (django-axes included) and land on the workspace.

    Administrators then pass the second factor through the real form, with the code their
    authenticator app (tests.conftest.otp_device) shows now.
    """
    from accounts.models import User
    from security.mfa import mfa_required

    user = User.objects.filter(username=username).first()
    needs_code = user is not None and mfa_required(user)
    if needs_code:
        otp_device(user)
    page.goto("/login/")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    # A refused login re-renders /login/ with an error; fail here, not on the next step.
    expect(page).not_to_have_url(re.compile(r"/login/"))
    if needs_code:
        expect(page).to_have_url(re.compile(r"/account/mfa/verify/"))
        otp_form = page.get_by_test_id("otp-form")
        otp_form.locator("input[name=code]").fill(totp_code(user))
        otp_form.locator("button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/account/mfa/"))


@pytest.fixture
def login(page):
    """Log this test's page in as `username`."""
    return lambda username, password=PASSWORD: log_in(page, username, password)


@pytest.fixture
def open_as(new_context):
    """A page of a fresh browser context (its own cookies), logged in as `username`: several people at once."""

    def _open_as(username: str) -> Page:
        page = watch_csp(new_context().new_page())
        log_in(page, username)
        return page

    return _open_as
