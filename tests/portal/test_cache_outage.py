"""Redis (the cache) unreachable: sign-in and password reset keep working, /healthz says so.

The cache is pointed at a closed port on this machine, so these tests need no service and
still exercise the real Redis client: its connection is refused exactly as when Redis stops.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import timedelta

import pytest
import redis
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from portal.celery import app as celery_app
from portal.tasks import HEARTBEAT_CACHE_KEY
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port where nothing listens (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cache_down():
    port = closed_port()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "portal",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches):
        # The premise: the cache really is unreachable.
        with pytest.raises(redis.exceptions.ConnectionError):
            cache.get("anything")
        yield port


def test_sign_in_works_while_the_cache_is_unreachable(client, cache_down, caplog):
    user = UserFactory(email="customer@example.test")
    with caplog.at_level(logging.WARNING):
        response = client.post(
            reverse("account_login"), {"login": "customer@example.test", "password": PASSWORD}
        )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert any("rate limit" in record.getMessage().lower() for record in caplog.records)


def test_a_wrong_password_is_still_refused_while_the_cache_is_unreachable(client, cache_down):
    UserFactory(email="customer@example.test")
    response = client.post(
        reverse("account_login"), {"login": "customer@example.test", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_works_while_the_cache_is_unreachable(client, cache_down):
    UserFactory(email="forgetful@example.test")
    response = client.post(reverse("account_reset_password"), {"email": "forgetful@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_healthz_names_the_unreachable_cache_quickly(client, cache_down):
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "error"
    assert body["cache"] == "error"
    assert "cache" in body["failing"]
    assert elapsed < 2.0


def test_healthz_names_an_unreachable_broker_quickly(client, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "broker_write_url", f"redis://127.0.0.1:{closed_port()}/0")
    started = time.monotonic()
    response = client.get(reverse("healthz"))
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert elapsed < 2.0


def test_healthz_is_healthy_with_a_fresh_heartbeat(client):
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["cache"] == "ok" and body["heartbeat"] == "ok"
    assert body["failing"] == []


def test_healthz_fails_on_a_stale_heartbeat(client, settings):
    settings.HEARTBEAT_INTERVAL_SECONDS = 60
    stale = timezone.now() - timedelta(seconds=3 * 60 + 5)
    cache.set(HEARTBEAT_CACHE_KEY, stale.isoformat(), timeout=None)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["heartbeat"] == "stale"
    assert body["failing"] == ["heartbeat"]
    assert body["worker_heartbeat_age_seconds"] >= 185


def test_the_redis_cache_client_has_short_socket_timeouts():
    """Without them a Redis that accepts no packets holds every request for the OS timeout."""
    from importlib import reload

    import portal.settings as portal_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDIS_URL", "redis://127.0.0.1:6379/9")
        reloaded = reload(portal_settings)
        options = reloaded.CACHES["default"]["OPTIONS"]
    reload(portal_settings)
    assert 0 < options["socket_connect_timeout"] <= 1
    assert 0 < options["socket_timeout"] <= 1
