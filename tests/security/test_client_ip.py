"""Behind reverse proxies (TRUSTED_PROXY_COUNT), per-IP rate limits see the client's address from
X-Forwarded-For; with no proxy configured the header is ignored, so forging it gains nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.api.throttling import AnonRateThrottle
from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.0.0.2"  # every request reaches the portal from the proxy
TOO_MANY = "Too many failed login attempts"


def attempt(email: str, password: str, forwarded_for: str):
    client = Client()
    response = client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return client, response


def lock_out(client_ip: str) -> None:
    """Ten failed logins from one address (two each on five accounts: no account's own limit)."""
    for index in range(5):
        victim = UserFactory(email=f"victim{index}@example.test")
        for _ in range(2):
            _client, response = attempt(victim.email, "wrong", client_ip)
            assert TOO_MANY not in response.content.decode()


@pytest.mark.django_db
def test_behind_one_proxy_each_client_address_has_its_own_bucket(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    lock_out("198.51.100.1")
    fresh = UserFactory(email="fresh@example.test")
    _client, refused = attempt(fresh.email, PASSWORD, "198.51.100.1")
    assert TOO_MANY in refused.content.decode()
    # Another client behind the same proxy is not locked out by the first one's failures; a
    # forged leftmost entry does not matter either: the proxy appends the address it saw.
    client, response = attempt(fresh.email, PASSWORD, "203.0.113.50, 198.51.100.2")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_header_gets_no_fresh_bucket(settings):
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == 0  # the default, as the tests run
    lock_out("198.51.100.1")
    fresh = UserFactory(email="fresh@example.test")
    # The failures counted against the connection's address; a new forged header changes nothing.
    client, response = attempt(fresh.email, PASSWORD, "198.51.100.99")
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session


def anon_ident(forwarded_for: str) -> str:
    request = RequestFactory().get(
        "/api/v1/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    return AnonRateThrottle().get_ident(request)


def test_the_api_throttle_uses_the_same_proxy_count(settings):
    assert settings.TRUSTED_PROXY_COUNT == 0  # the default, as the tests run
    # DRF's own default (NUM_PROXIES None) would key on the forged header itself.
    assert anon_ident("198.51.100.7") == PROXY
    assert anon_ident("1.2.3.4") == PROXY
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert anon_ident("198.51.100.7") == "198.51.100.7"
    assert anon_ident("1.2.3.4, 198.51.100.8") == "198.51.100.8"


@pytest.mark.parametrize(("count", "expected"), [(None, "0 0"), ("2", "2 2")])
def test_trusted_proxy_count_configures_allauth_and_the_api(tmp_path, count, expected):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "TRUSTED_PROXY_COUNT")
    }
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(tmp_path)})
    if count is not None:
        env["TRUSTED_PROXY_COUNT"] = count
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings\n"
            "print(settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.REST_FRAMEWORK['NUM_PROXIES'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
