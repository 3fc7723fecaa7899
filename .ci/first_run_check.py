"""Checks a running `make run` as a newcomer would (standard library only).

Usage: python .ci/first_run_check.py http://127.0.0.1:8123 var/first-run.log

- `/healthz` answers 200 (database, broker and a worker's heartbeat) within the time limit;
- `/` answers (the sign-in page for a visitor);
- a demo PoC signs in with the printed password and sees her organization's dashboard;
- the scheduler put the demo's sessions on the calendar (the PoC's calendar feed lists them);
- links in the e-mails the worker sent point at the port actually served.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

POC = "jiwoo.kim@hanbit.example"
PASSWORD = "portal-demo-2026"  # the demo's published password
ORGANIZATION = "Hanbit Heavy Industries"


def fail(message: str) -> None:
    print(f"first run: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - the portal on loopback
            self.base + path,
            data=body,
            headers={"Accept-Language": "en", "Referer": self.base + path},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode(errors="replace")


def wait_healthy(browser: Browser, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, _url, body = browser.open("/healthz")
            last = f"{status} {body[:300]}"
            if status == 200:
                return json.loads(body)
        except (OSError, ValueError) as error:
            last = repr(error)
        time.sleep(2)
    fail(f"/healthz did not answer 200 within {seconds:.0f} s (last: {last})")
    raise AssertionError


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        fail("no CSRF token on the sign-in page")
    return found.group(1)  # type: ignore[union-attr]


def main(base: str, log_path: str) -> None:
    browser = Browser(base)
    health = wait_healthy(browser, 600)
    print(f"first run: /healthz 200 {health}")

    status, url, page = browser.open("/")
    if status != 200 or "/accounts/login/" not in url:
        fail(f"/ answered {status} at {url}, not the sign-in page")
    print("first run: / answers with the sign-in page")

    status, url, page = browser.open(
        "/accounts/login/",
        {"login": POC, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)},
    )
    if status != 200 or "/accounts/login/" in url:
        fail(f"the PoC could not sign in ({status} at {url}): {page[:500]}")
    status, url, page = browser.open("/")
    if status != 200 or ORGANIZATION not in page:
        fail(f"the PoC's dashboard ({status} at {url}) does not show {ORGANIZATION}")
    print(f"first run: {POC} signed in and sees the dashboard of {ORGANIZATION}")

    status, _url, page = browser.open("/reviews/")
    sessions = len(re.findall(r'href="/reviews/\d+/"', page))
    if status != 200 or sessions == 0:
        fail(f"no scheduled sessions on the PoC's review list ({status}, {sessions} links)")
    print(f"first run: the scheduler put sessions on the calendar ({sessions} listed)")

    port = urllib.parse.urlsplit(base).port
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            links = re.findall(r"https?://[\w.\-]+:(\d+)/", log.read())
        if links:
            break
        time.sleep(3)
    if not links:
        fail("the worker sent no e-mail with a link within 120 s")
    wrong = sorted({p for p in links if int(p) != port})
    if wrong:
        fail(f"e-mail links point at port(s) {wrong}, the portal is served on {port}")
    print(f"first run: {len(links)} e-mail links, all to port {port}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
