"""Refuse oversized API bodies before any parser reads them.

DRF's parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (which
guards `request.body`) does not protect the JSON API. This does.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from portal.errors import error_body


class ApiBodySizeLimitMiddleware:
    """Answers 413 for a declared body over API_MAX_BODY_BYTES. Under WSGI a body without a
    Content-Length reads as empty, so the declared length is the whole story."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            limit = settings.API_MAX_BODY_BYTES
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(
                    error_body("parse_error", _("The Content-Length header is not a number.")),
                    status=400,
                )
            if declared > limit:
                return JsonResponse(
                    error_body(
                        "request_too_large",
                        _("The request body is larger than %(limit)d bytes.") % {"limit": limit},
                    ),
                    status=413,
                )
        return self.get_response(request)
