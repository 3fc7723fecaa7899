"""A lost database connection answers 503 "try again", never a 500 or a traceback.

When PostgreSQL drops the connection serving a request (a restart, a failover, an administrator
terminating the backend) or cannot be reached at all, the request cannot finish: pages answer a
plain "service unavailable" page that needs no database, /api/ answers 503 in the SPEC §8 error
format, both with Retry-After. The broken connection is closed when the request ends, and the
next request gets a new one (CONN_HEALTH_CHECKS also replaces a persistent connection that died
between requests).

The error can surface in a view (caught here in process_exception), or inside another middleware
or the API's exception handler (both turn it into a 500 first): a 5xx after which the request's
connection is found dropped is taken to be this fault too.

A transaction PostgreSQL aborted for a deadlock or a serialization failure that was not retried
(see portal.locks) answers 503 "busy, try again" the same way (`busy`), not a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from portal.errors import error_body
from portal.locks import is_lock_conflict

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
BUSY_RETRY_AFTER_SECONDS = 1


def _connection_lost() -> bool:
    """Whether a connection this request used was dropped, or could not be opened at all."""
    for connection in connections.all(initialized_only=True):
        if not connection.errors_occurred:
            continue
        raw = connection.connection
        if raw is None:
            return True  # connecting failed: the server is down or unreachable
        closed = getattr(raw, "closed", None)
        if closed is not None:
            # psycopg marks a connection the server or the network dropped as closed; a
            # failed statement in a live connection does not count.
            if closed:
                return True
            continue
        try:
            if not connection.is_usable():
                return True
        except DatabaseError:
            return True
    return False


def _answer_503(
    request: HttpRequest, detail: Callable[[], str], text: Callable[[], str], retry_after: int
) -> HttpResponse:
    """A 503 rendered without touching the database: the API's error format under /api/."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body("service_unavailable", detail()), status=503
            )
        else:
            title = _("Service unavailable")
            response = HttpResponse(
                format_html(
                    '<!DOCTYPE html><html lang="{}"><head><meta charset="utf-8">'
                    "<title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                    translation.get_language(),
                    title,
                    title,
                    text(),
                ),
                status=503,
            )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer to a lost database connection."""
    return _answer_503(
        request,
        lambda: _("The service is temporarily unavailable. Please try again shortly."),
        lambda: _(
            "The portal cannot reach its database at the moment. Please try again in a few seconds."
        ),
        RETRY_AFTER_SECONDS,
    )


def busy(request: HttpRequest) -> HttpResponse:
    """The 503 answer to a transaction aborted by a lock conflict: nothing was saved, and the
    same request again will most likely succeed."""
    return _answer_503(
        request,
        lambda: _("The service is busy and nothing was saved. Please try again."),
        lambda: _(
            "The portal was too busy to save your change, and nothing was saved. Please try again."
        ),
        BUSY_RETRY_AFTER_SECONDS,
    )


class DatabaseUnavailableMiddleware:
    """Answers 503 when the database connection was lost under the request (see module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError) as error:
            if is_lock_conflict(error):
                logger.warning("Lock conflict left over under %s", request.path, exc_info=True)
                return busy(request)
            # Raised again while an inner layer rendered its 500: the same lost connection.
            logger.warning("Database connection lost under %s", request.path, exc_info=True)
            return unavailable(request)
        if response.status_code >= 500 and _connection_lost():
            logger.warning("Database connection lost under %s", request.path)
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_lock_conflict(exception):
            logger.warning("Lock conflict left over under %s", request.path, exc_info=exception)
            return busy(request)
        if isinstance(exception, (OperationalError, InterfaceError)) and _connection_lost():
            logger.warning("Database connection lost under %s", request.path, exc_info=exception)
            return unavailable(request)
        return None
