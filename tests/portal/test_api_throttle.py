"""The API's rate limit in one Redis round trip (portal/api/throttling.py): the same limits,
`Retry-After` and `X-RateLimit-*` as DRF's two-trip throttle, over a real Redis."""

import time

import pytest
from redis import Redis
from rest_framework.test import APIClient

from portal.accounts.services import api_token_create
from portal.api.throttling import UserRateThrottle, Window
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(monkeypatch):
    def set_to(rate: str) -> None:
        rates = {**UserRateThrottle.THROTTLE_RATES, "user": rate}
        monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)

    return set_to


@pytest.fixture
def commands(monkeypatch):
    """Every command sent to Redis, as (name, args)."""
    sent: list[tuple] = []
    original = Redis.execute_command

    def spy(self, *args, **options):
        sent.append(args)
        return original(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", spy)
    return sent


def throttle_commands(sent: list[tuple]) -> list[tuple]:
    return [args for args in sent if any("throttle" in str(arg) for arg in args)]


def test_one_round_trip_a_request(world, require_redis, commands):
    client = signed_in(world.a.poc)
    client.get("/api/v1/cases/")  # the script is loaded once
    commands.clear()
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    trips = throttle_commands(commands)
    assert len(trips) == 1 and trips[0][0] == "EVALSHA", trips


def test_the_limit_headers_and_retry_after(world, require_redis, limit):
    limit("3/min")
    client = signed_in(world.a.poc)
    started = time.time()
    answers = [client.get("/api/v1/users/") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [answer["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0"]
    assert {answer["X-RateLimit-Limit"] for answer in answers} == {"3"}
    reset = int(answers[0]["X-RateLimit-Reset"])
    assert started + 60 <= reset <= time.time() + 61  # the first request leaves the window
    refused = client.get("/api/v1/users/")
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Remaining"] == "0"
    another = signed_in(world.a.member)  # each user has their own window
    assert another.get("/api/v1/users/").status_code == 200


def test_times_leave_the_window(world, require_redis, limit):
    limit("2/s")
    client = signed_in(world.a.poc)
    assert [client.get("/api/v1/users/").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.05)
    response = client.get("/api/v1/users/")
    assert response.status_code == 200 and response["X-RateLimit-Remaining"] == "1"


def test_a_request_refused_before_throttling_shows_the_window_without_counting(
    world, require_redis, limit
):
    limit("5/min")
    client = signed_in(world.a.poc)
    assert client.get("/api/v1/users/")["X-RateLimit-Remaining"] == "4"
    # A 404 comes after throttling: counted.
    assert client.get("/api/v1/cases/987654/")["X-RateLimit-Remaining"] == "3"
    # A write-only token's read is refused (403) before throttling: shown, not counted.
    _token, plain = api_token_create(user=world.a.poc, name="w", scopes=["write"])
    refused = APIClient()
    refused.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    response = refused.get("/api/v1/users/")
    assert response.status_code == 403 and response["X-RateLimit-Remaining"] == "3"
    assert client.get("/api/v1/users/")["X-RateLimit-Remaining"] == "2"


def test_window_reads_as_drf_reads_a_history():
    window = Window(3, 100.0)
    assert len(window) == 3 and window[-1] == 100.0 and window
    assert not Window(0, None)
    throttle = UserRateThrottle()
    throttle.history, throttle.now = Window(3, 100.0), 130.0
    throttle.num_requests, throttle.duration = 3, 60
    assert throttle.wait() == 30.0  # DRF's own arithmetic on the window
