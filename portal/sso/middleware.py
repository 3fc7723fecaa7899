"""allauth's SAML views read the Host header straight from the request (python3-saml builds the
URL a response must be addressed to from it): a request without one (HTTP/1.0, a health probe,
Django's test client) would be a 500. This names the host Django serves (checked against
ALLOWED_HOSTS) where the header is missing."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SAML_PREFIX = "/accounts/saml/"


class SamlHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(SAML_PREFIX) and "HTTP_HOST" not in request.META:
            request.META["HTTP_HOST"] = request.get_host()
        return self.get_response(request)
