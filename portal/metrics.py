"""Prometheus metrics at /metrics, for a bearer token only.

- `portal_http_requests_total{view,method,status}` and
  `portal_http_request_duration_seconds{view,method}`: counted by `MetricsMiddleware` in the
  web process (under gunicorn, summed over its workers through PROMETHEUS_MULTIPROC_DIR).
- `portal_celery_tasks_total{task,outcome}`: succeeded / failed / retried, counted by Celery
  signals in whichever process ran the task, in the shared cache (portal/observability.py).
- `portal_outbox_unsent`: e-mails in the outbox not sent yet; `portal_sla_breached_open`: open
  cases past their response objective with no first response. Both are counted at scrape time;
  the second is the cases app's, registered with `register_scrape_gauge` (the kernel imports no
  app).

A scrape costs a constant number of queries (two counts, one cache read), whatever the data.
Without METRICS_TOKEN the endpoint is off (404): "loopback only" would expose it to the world
through a reverse proxy on the same host, where every request comes from 127.0.0.1.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator
from itertools import product

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from portal.observability import TASK_OUTCOME_KEY, TASK_OUTCOMES

logger = logging.getLogger(__name__)

HTTP_REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by view name, method and status code.",
    ["view", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by view name and method.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _view_label(request: HttpRequest) -> str:
    # The route's name, never the path: paths carry ids, and unknown paths are unbounded.
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unresolved"
    return match.view_name or match._func_path


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            view = _view_label(request)
            method = request.method if request.method in METHODS else "other"
            HTTP_REQUESTS.labels(view, method, str(response.status_code)).inc()
            HTTP_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        except Exception:  # metrics never break a response
            logger.exception("Request not counted in the metrics")
        return response


# Gauges counted at scrape time that apps register in their AppConfig.ready(): name ->
# (help text, count). The kernel knows no app's models.
_scrape_gauges: dict[str, tuple[str, Callable[[], int]]] = {}


def register_scrape_gauge(name: str, documentation: str, count: Callable[[], int]) -> None:
    """Report `count()` as the gauge `name` at every scrape; keep it one statement."""
    _scrape_gauges[name] = (documentation, count)


def celery_task_names() -> list[str]:
    from portal.celery import app

    app.loader.import_default_modules()  # every app's tasks module, as a worker sees them (once)
    return sorted(name for name in app.tasks if not name.startswith("celery."))


class ScrapeCollector:
    """What is read at scrape time: task outcomes from the cache, the outbox backlog and the SLA
    breaches from the database, one statement each."""

    def describe(self) -> list[Metric]:
        return []  # nothing is read when the collector is registered

    def collect(self) -> Iterator[Metric]:
        yield self._task_outcomes()
        yield self._outbox_unsent()
        for name, (documentation, count) in _scrape_gauges.items():
            yield GaugeMetricFamily(name, documentation, value=count())

    def _task_outcomes(self) -> Metric:
        family = CounterMetricFamily(
            "portal_celery_tasks",
            "Celery tasks run, by task name and outcome (succeeded, failed, retried).",
            labels=["task", "outcome"],
        )
        keys = {
            TASK_OUTCOME_KEY.format(outcome=outcome, task=task): (task, outcome)
            for task, outcome in product(celery_task_names(), TASK_OUTCOMES)
        }
        counts = cache.get_many(list(keys))
        for key, (task, outcome) in keys.items():
            family.add_metric([task, outcome], int(counts.get(key) or 0))
        return family

    def _outbox_unsent(self) -> Metric:
        from portal.notifications import OutboxEmail

        return GaugeMetricFamily(
            "portal_outbox_unsent",
            "E-mails in the outbox not sent yet (due now or waiting to be retried).",
            value=OutboxEmail.objects.filter(sent_at__isnull=True).count(),
        )


def _process_registry() -> CollectorRegistry:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
        return registry
    return REGISTRY


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), token.encode()
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not _authorized(request, token):
        response = HttpResponse(
            _("A bearer token is required."), status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(ScrapeCollector())
    body = generate_latest(_process_registry()) + generate_latest(scraped)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
