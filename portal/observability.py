"""What an operator reads when something goes wrong: request ids in every log line, JSON logs on
request, Celery task ids in task log lines, and errors sent to Sentry when a DSN is configured.

A request id is accepted from the `X-Request-ID` header when it is a sane token (a proxy or a
load balancer in front usually assigns one), else generated; it is kept in a context variable
for the request's duration, stamped on every log record by `ContextFilter`, and returned in the
`X-Request-ID` response header, so a user's error report, the access log and the application
log meet on one id.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_ID = "-"

request_id_var: ContextVar[str] = ContextVar("request_id", default=NO_ID)
task_id_var: ContextVar[str] = ContextVar("task_id", default=NO_ID)


def incoming_request_id(value: str | None) -> str:
    """The caller's id if it is a token of at most 64 characters of [A-Za-z0-9._-], else a new
    one: anything else could forge log lines or bloat them."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response, errors included, carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class ContextFilter(logging.Filter):
    """Stamps `request_id` and `task_id` ("-" outside a request or a task) on every record.
    Attached to the handlers, so records from every logger get them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "task_id"):
            record.task_id = task_id_var.get()
        return True


PLAIN_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s task_id=%(task_id)s] %(message)s"
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, request_id, task_id,
    message, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_ID),
            "task_id": getattr(record, "task_id", NO_ID),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: one console handler, plain lines or JSON lines (LOG_FORMAT=json)."""
    formatter = (
        {"()": "portal.observability.JsonFormatter"}
        if log_format == "json"
        else {"format": PLAIN_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.observability.ContextFilter"}},
        "formatters": {"portal": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "portal",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.request": {"level": "ERROR"}},
    }


# --- Celery: the task id on the task's log lines, and each task's outcome counted ---------------
TASK_OUTCOMES = ("succeeded", "failed", "retried")
TASK_OUTCOME_KEY = "metrics:celery-task:{outcome}:{task}"


def count_task_outcome(task_name: str, outcome: str) -> None:
    """Add one to the task's outcome in the shared cache (Redis in production), where the web's
    /metrics reads it: workers run in other processes and containers than the one scraped.
    Counting must never fail a task, so a cache error is logged and dropped."""
    from django.core.cache import cache

    key = TASK_OUTCOME_KEY.format(outcome=outcome, task=task_name)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception as exc:
        logging.getLogger(__name__).warning("Task outcome not counted (%s): %s", key, exc)


def _task_started(task_id: str | None = None, **_kwargs: Any) -> None:
    task_id_var.set(task_id or NO_ID)


def _task_finished(**_kwargs: Any) -> None:
    task_id_var.set(NO_ID)


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender)


def _task_succeeded(sender: Any = None, **_kwargs: Any) -> None:
    count_task_outcome(_task_name(sender), "succeeded")


def _task_failed(sender: Any = None, **_kwargs: Any) -> None:
    count_task_outcome(_task_name(sender), "failed")


def _task_retried(sender: Any = None, **_kwargs: Any) -> None:
    count_task_outcome(_task_name(sender), "retried")


def connect_celery_signals() -> None:
    from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success

    uid = "portal.observability"
    task_prerun.connect(_task_started, weak=False, dispatch_uid=uid)
    task_postrun.connect(_task_finished, weak=False, dispatch_uid=uid)
    task_success.connect(_task_succeeded, weak=False, dispatch_uid=uid)
    task_failure.connect(_task_failed, weak=False, dispatch_uid=uid)
    task_retry.connect(_task_retried, weak=False, dispatch_uid=uid)


# --- Sentry ---------------------------------------------------------------------------------------
def init_sentry(
    dsn: str, *, environment: str, release: str | None, traces_sample_rate: float
) -> bool:
    """Send errors (Django and Celery) to Sentry; only called when SENTRY_DSN is set. No personal
    data: send_default_pii stays off (no user e-mail, no cookies, no IP address)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
    )
    return True
