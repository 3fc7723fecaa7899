"""Playwright fixtures: Debian's Chromium driven through the sync API against the live server."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)

from tests.conftest import need_service

# Playwright's sync API runs an event loop in the test thread; without this Django's ORM
# refuses to run in the test body ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    # Session fixtures are set up before a test's function-scoped ones (so before
    # `require_chromium`): check here too, so a missing Chromium skips (or fails in CI) cleanly.
    need_service(os.path.exists(CHROMIUM), "Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(require_chromium: None, browser) -> Iterator:
    """A fresh context and page per test, so no cookies carry over between tests."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


class _InFlight:
    """Counts the live server's requests still being answered.

    A page polls (badges, presence, lists); closing its context does not stop a request the
    server has already taken. Left running into the teardown, it reads while the database is
    flushed: on SQLite the live server shares the test's one connection, so the flush fails
    ("couldn't be flushed") and the next test finds the last one's rows.

    A request ends when the server closes the application's iterable, which this passes on:
    Django's response sends `request_finished` from its `close()`. Left unclosed (a generator
    that only iterated the response did that), a static file's response was closed later by
    the garbage collector, in whatever thread collected it: in the test's thread during the
    flush, its `close_old_connections` closed the test's connection under the flush
    ("the connection is closed", or a broken atomic block).
    """

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.count += 1
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._finished()
            raise
        return _Answer(result, self._finished)

    def _finished(self) -> None:
        with self.lock:
            self.count -= 1

    def wait_idle(self, timeout: float = 10.0, quiet: float = 0.2) -> None:
        """Until no request has been in flight for `quiet` seconds (or `timeout` passes)."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < deadline:
            if self.count:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            time.sleep(0.02)


class _Answer:
    """The application's iterable, whose `close()` (which the WSGI server calls once it has
    sent the answer, or failed to) closes the original and marks the request finished."""

    def __init__(self, result, finished) -> None:
        self.result = result
        self.finished = finished

    def __iter__(self):
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.finished()


@pytest.fixture(autouse=True)
def _live_server_idle_before_flush(request) -> Iterator[None]:
    """A browser test's teardown waits for the live server's last request before the flush.

    Autouse in this folder, so it is set up after the database fixtures (autouse in the root
    conftest) and torn down before them, after the test's pages are closed.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("live_server")
    httpd = server.thread.httpd
    counter = httpd.get_app()
    if not isinstance(counter, _InFlight):
        counter = _InFlight(counter)
        httpd.set_app(counter)
    yield
    counter.wait_idle()


@pytest.fixture
def artifacts_dir() -> Path:
    path = REPO_ROOT / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in(page, base_url: str, email: str, password: str):
    """Submit the password step of allauth's sign-in form; returns the final response."""
    response = page.goto(f"{base_url}/accounts/login/")
    assert response is not None and response.ok, response and response.status
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='login']").fill(email)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("[type='submit']").first.click()
    return page


def current_totp_code(secret: str) -> str:
    """The code an authenticator app would show now, computed with allauth's own helpers."""
    period = mfa_settings.TOTP_PERIOD
    # Tolerance may be 0: do not compute a code a moment before it expires.
    if time.time() % period > period - 2:
        time.sleep(period - time.time() % period + 0.1)
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def enter_totp(page, secret: str):
    page.locator("input[name='code']").fill(current_totp_code(secret))
    with page.expect_navigation():
        page.locator("form:has(input[name='code']) [type='submit']").first.click()
    return page
