"""allauth's SAML endpoints, held to "bad input is never a 500":

- they read the Host header straight from the request (python3-saml builds the URL a response
  must be addressed to from it): a request without one (HTTP/1.0, a probe, Django's test
  client) names the host Django serves (checked against ALLOWED_HOSTS);
- python3-saml lets some garbage through as exceptions (a SAMLResponse that is base64 of no
  XML raises lxml's XMLSyntaxError): on these paths an unexpected error is logged and answered
  with the "signing in did not succeed" refusal page, not a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

SAML_PREFIX = "/accounts/saml/"


class SamlHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(SAML_PREFIX) and "HTTP_HOST" not in request.META:
            request.META["HTTP_HOST"] = request.get_host()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(SAML_PREFIX) or isinstance(
            exception, Http404 | PermissionDenied | SuspiciousOperation
        ):
            return None
        from portal.sso.adapter import refusal_response

        logger.warning("SAML endpoint failed: %r", exception, exc_info=exception)
        return refusal_response(request, "failed")
