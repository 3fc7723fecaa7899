"""/metrics: Prometheus text for a bearer token only; request, Celery task, outbox and SLA metrics;
a constant number of queries per scrape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from cases.casework.models import Case
from cases.casework.services import case_respond
from portal.notifications import OutboxEmail
from tests.cases.conftest import engagement_with_contact
from tests.cases.test_sla import raise_at
from tests.portal import observability_app

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-0123456789"
METRIC_NAMES = {
    "portal_http_requests",
    "portal_http_request_duration_seconds",
    "portal_celery_tasks",
    "portal_outbox_unsent",
    "portal_sla_breached_open",
}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(**headers: str):
    return Client().get("/metrics", **headers)


def samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    assert response.status_code == 200, response.content
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def authorized():
    return samples(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))


# --- Access ---------------------------------------------------------------------------------------
def test_without_a_configured_token_metrics_are_off_even_from_loopback(settings):
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 404
    assert b"portal_http_requests" not in response.content


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "],
)
def test_a_missing_or_wrong_token_answers_401(token, header):
    response = scrape(**({"HTTP_AUTHORIZATION": header} if header is not None else {}))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


def test_the_token_gets_prometheus_text_with_every_metric(token):
    response = scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert names >= METRIC_NAMES, METRIC_NAMES - names


# --- What they count ------------------------------------------------------------------------------
def test_requests_are_counted_by_view_method_and_status(token):
    before = authorized()
    Client().get("/ping")
    Client().get("/ping")
    Client().get("/no-such-page/")
    after = authorized()
    ping = {"view": "ping", "method": "GET", "status": "200"}
    missing = {"view": "unresolved", "method": "GET", "status": "404"}
    assert value(after, "portal_http_requests_total", **ping) == (
        value(before, "portal_http_requests_total", **ping) + 2
    )
    assert value(after, "portal_http_requests_total", **missing) == (
        value(before, "portal_http_requests_total", **missing) + 1
    )
    latency = {"view": "ping", "method": "GET"}
    assert value(after, "portal_http_request_duration_seconds_count", **latency) == (
        value(before, "portal_http_request_duration_seconds_count", **latency) + 2
    )


def test_celery_task_outcomes_are_counted(token):
    succeeded = {"task": "tests.observability.log_in_task", "outcome": "succeeded"}
    failed = {"task": "tests.observability.fail", "outcome": "failed"}
    retried = {"task": "tests.observability.retry_once", "outcome": "retried"}
    retried_ok = {"task": "tests.observability.retry_once", "outcome": "succeeded"}
    before = authorized()
    assert value(before, "portal_celery_tasks_total", **succeeded) == 0
    assert observability_app.log_in_task.apply().get() == "done"
    observability_app.log_in_task.delay()  # eager in the tests, as apply()
    assert observability_app.fail.apply().failed()
    observability_app.retry_once.apply()
    after = authorized()
    assert value(after, "portal_celery_tasks_total", **succeeded) == 2
    assert value(after, "portal_celery_tasks_total", **failed) == 1
    assert value(after, "portal_celery_tasks_total", **retried) == 1
    assert value(after, "portal_celery_tasks_total", **retried_ok) == 1
    # Every registered task is listed, with zeros until it runs.
    assert (
        "portal_celery_tasks_total",
        (("outcome", "failed"), ("task", "cases.tasks.scan_sla")),
    ) in after


def test_outbox_backlog_and_sla_breaches_are_counted_at_scrape(token):
    engagement, _contact = engagement_with_contact("premium", "UTC")
    long_ago = datetime(2024, 3, 4, 9, tzinfo=UTC)
    raise_at(engagement, None, long_ago, "breached")
    raise_at(engagement, None, long_ago, "breached too")
    answered = raise_at(engagement, None, long_ago, "answered")
    case_respond(acting_user=engagement.manager, case=answered, body="On it.")
    raise_at(engagement, None, timezone.now(), "fresh")
    OutboxEmail.objects.create(to="x@example.test", subject="sent", body=".", sent_at=long_ago)
    unsent = OutboxEmail.objects.filter(sent_at__isnull=True).count()
    OutboxEmail.objects.create(to="y@example.test", subject="waiting", body=".")
    found = authorized()
    assert value(found, "portal_outbox_unsent") == unsent + 1
    assert value(found, "portal_sla_breached_open") == 2
    Case.objects.filter(subject="breached").update(status=Case.Status.RESOLVED)
    assert value(authorized(), "portal_sla_breached_open") == 1


def test_a_scrape_costs_the_same_queries_at_3_and_30_rows(token):
    engagement, _contact = engagement_with_contact("premium", "UTC")

    def grow(to: int) -> int:
        while Case.objects.count() < to:
            raise_at(engagement, None, datetime(2024, 3, 4, 9, tzinfo=UTC), "old")
        OutboxEmail.objects.bulk_create(
            OutboxEmail(to=f"r{index}@example.test", subject="s", body=".") for index in range(to)
        )
        with CaptureQueriesContext(connection) as queries:
            authorized()
        return len(queries)

    small = grow(3)
    large = grow(30)
    assert small == large, (small, large)
    assert small <= 2


def test_gunicorn_workers_are_summed_through_the_multiprocess_folder(tmp_path):
    """Two processes count requests into one PROMETHEUS_MULTIPROC_DIR; a scrape sees both."""
    from tests.portal.test_observability import run_portal

    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": TOKEN}
    serve = "from django.test import Client\nClient().get('/ping'); Client().get('/ping')\n"
    for _worker in range(2):
        result = run_portal(serve, tmp_path, **env)
        assert result.returncode == 0, result.stderr
    # What /metrics reads besides its scrape-time counts (those need a migrated database).
    scrape_code = (
        "from prometheus_client import generate_latest\n"
        "from portal.metrics import _process_registry\n"
        "print(generate_latest(_process_registry()).decode())\n"
    )
    result = run_portal(scrape_code, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    found = {}
    for family in text_string_to_metric_families(result.stdout):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    ping = {"view": "ping", "method": "GET", "status": "200"}
    assert value(found, "portal_http_requests_total", **ping) == 4
    assert (
        value(found, "portal_http_request_duration_seconds_count", view="ping", method="GET") == 4
    )
