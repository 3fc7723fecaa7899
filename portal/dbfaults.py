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

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


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


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer, rendered without touching the database."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(
                    "service_unavailable",
                    _("The service is temporarily unavailable. Please try again shortly."),
                ),
                status=503,
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
                    _(
                        "The portal cannot reach its database at the moment. "
                        "Please try again in a few seconds."
                    ),
                ),
                status=503,
            )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Answers 503 when the database connection was lost under the request (see module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError):
            # Raised again while an inner layer rendered its 500: the same lost connection.
            logger.warning("Database connection lost under %s", request.path, exc_info=True)
            return unavailable(request)
        if response.status_code >= 500 and _connection_lost():
            logger.warning("Database connection lost under %s", request.path)
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)) and _connection_lost():
            logger.warning("Database connection lost under %s", request.path, exc_info=exception)
            return unavailable(request)
        return None
