"""Views and a task that log or fail, for tests/portal/test_observability.py (mounted with
override_settings(ROOT_URLCONF=...) in process, or as the URLconf of a subprocess)."""

import logging

from celery import shared_task
from django.http import HttpRequest, HttpResponse
from django.urls import path

logger = logging.getLogger("tests.observability")


def log_line(request: HttpRequest) -> HttpResponse:
    logger.warning("inside the request")
    return HttpResponse("ok")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom for the error tracker")


@shared_task(name="tests.observability.log_in_task")
def log_in_task() -> str:
    logger.warning("inside the task")
    return "done"


@shared_task(name="tests.observability.fail")
def fail() -> None:
    raise RuntimeError("task failure for the metrics")


@shared_task(bind=True, name="tests.observability.retry_once", max_retries=1)
def retry_once(self) -> str:
    if self.request.retries == 0:
        raise self.retry(countdown=0)
    return "retried"


urlpatterns = [path("test-log/", log_line), path("test-boom/", boom)]
