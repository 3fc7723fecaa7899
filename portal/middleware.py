"""Request middleware of the portal: each signed-in user's language and time zone, the domain
errors a page view lets through, and the persistent connection's health check."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from portal.db import skip_health_checks_of_quiet_connections
from portal.errors import DomainError, domain_error_response


class QuietConnectionMiddleware:
    """Before the request's first statement: a persistent database connection with nothing to
    read skips Django's `SELECT 1` health check, one round trip less a request
    (`portal.db.skip_health_checks_of_quiet_connections`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        skip_health_checks_of_quiet_connections()
        return self.get_response(request)


class UserPreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class DomainErrorMiddleware:
    """A page view lets a refusal it does not show on a form propagate; it is answered here by
    `portal.errors.domain_error_response`, the mapping the API uses too (the API's own
    exception handler answers inside DRF, before this)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return domain_error_response(request, exception)
        return None
