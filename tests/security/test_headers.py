"""Transport and browser hardening: `check --deploy`, HSTS, the HTTPS redirect, cookie flags and
the Content-Security-Policy.

Settings are read from the environment once, at import, and the test run itself sets
SECURE_SSL_REDIRECT=0 and plain-HTTP cookies. So the production configuration is proved in two
steps, and only these two: (1) a subprocess imports the settings with a production environment
(DEBUG off, nothing else overridden) and reports the security settings they produce, and runs
`check --deploy`; (2) in this process those exact values are put in place with
override_settings and requests show the headers and cookie flags they cause. What is not
proved here is the TLS terminator in front of gunicorn setting X-Forwarded-Proto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
SECURITY_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
)
REPORT = f"""
import json
import django
from django.conf import settings
from django.core.management import call_command

django.setup()
call_command("check", deploy=True, fail_level="WARNING")
print("SETTINGS=" + json.dumps({{name: getattr(settings, name) for name in {SECURITY_SETTINGS!r}}}))
"""


def production(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Import the settings as production would (Makefile DEPLOY_ENV), run `check --deploy`."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "deploy-check-7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c8e2b6d0a4f9c3e7b1d",
        "ALLOWED_HOSTS": "portal.example.com",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory: pytest.TempPathFactory) -> dict:
    result = production(tmp_path_factory.mktemp("production"))
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SETTINGS="))
    return json.loads(line.removeprefix("SETTINGS="))


def test_check_deploy_is_clean_and_would_notice_a_weakened_setting(production_settings, tmp_path):
    # The module fixture ran `check --deploy --fail-level WARNING` with the production
    # environment and it passed. The same check refuses a cookie sent over plain HTTP:
    weakened = production(tmp_path, SESSION_COOKIE_SECURE="0")
    assert weakened.returncode != 0
    assert "security.W012" in weakened.stderr


def test_production_environment_turns_everything_on(production_settings):
    assert production_settings == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": ["^healthz$", "^metrics$"],
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
    }


@pytest.fixture
def production_client(production_settings):
    """A client of this process under the security settings production computed."""
    values = dict(production_settings)
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    values["ALLOWED_HOSTS"] = ["portal.example.com"]
    with override_settings(**values):
        yield Client(HTTP_HOST="portal.example.com")  # middleware loads under these values


@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_answers_with_hsts(production_client):
    response = production_client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://portal.example.com/accounts/login/"
    assert "Strict-Transport-Security" not in response  # HSTS is only meaningful over TLS

    response = production_client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # The load balancer's health check stays on plain HTTP.
    assert production_client.get("/healthz").status_code != 301


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_httponly_samesite(production_client):
    user = UserFactory(email="cookie@example.test")
    https = {"HTTP_X_FORWARDED_PROTO": "https"}
    response = production_client.get(reverse("account_login"), **https)
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    response = production_client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}, **https
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


# --- Content-Security-Policy ----------------------------------------------------------------


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


@pytest.mark.django_db
def test_pages_and_api_answers_carry_the_strict_policy(world):
    from tests.conftest import page_client, signed_in

    for response in (
        Client().get(reverse("account_login")),
        page_client(world.a.poc).get(reverse("dashboard")),
        page_client(world.manager).get(reverse("weekly_board")),
        signed_in(world.a.poc).get("/api/v1/cases/"),
        Client().get("/no-such-page/"),
    ):
        assert directives(response) == EXPECTED_POLICY, response.request["PATH_INFO"]


@pytest.mark.django_db
def test_only_the_api_docs_relax_the_policy(world):
    from tests.conftest import page_client

    client = page_client(world.a.poc)
    for url in (reverse("api_docs"), reverse("api_redoc")):
        policy = directives(client.get(url))
        assert policy["style-src"] == "'self' 'unsafe-inline'"
        assert policy["worker-src"] == "'self' blob:"
        assert policy["script-src"] == "'self'"  # still no inline script
        assert policy["frame-ancestors"] == "'none'"
    swagger = client.get(reverse("api_docs")).content.decode()
    assert "<script>" not in swagger  # the start-up script is a file of its own
    start_up = client.get(reverse("api_docs"), {"script": ""})
    assert start_up["Content-Type"].startswith("application/javascript")
    redoc = client.get(reverse("api_redoc")).content.decode()
    assert "<script>" not in redoc and "fonts.googleapis.com" not in redoc


def test_no_template_has_inline_script_style_or_handlers():
    """What the policy forbids is not in the markup: <script> without src (other than JSON
    data), <style>, style="..." and on...= handlers."""
    import re

    offenders = []
    for path in sorted((REPO_ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son[a-z]+\s*=",
        ):
            offenders += [f"{path.relative_to(REPO_ROOT)}: {m}" for m in re.findall(pattern, text)]
    assert offenders == []


@pytest.mark.django_db
def test_an_uploaded_file_keeps_its_own_sandbox_policy(world):
    from tests.conftest import page_client

    organization = world.a.organization
    response = page_client(world.a.poc).get(reverse("organization_logo", args=[organization.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
