"""Refuse oversized request bodies before any parser reads them.

DRF's parsers read the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (which
guards `request.body`) does not protect the JSON API. And that setting leaves out the files of
a multipart upload, which Django streams to temporary files however large they are. This
middleware caps both.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from portal.errors import error_body


class ApiBodySizeLimitMiddleware:
    """Answers 413 for a declared body over the limit: API_MAX_BODY_BYTES for the API's JSON,
    UPLOAD_MAX_BODY_BYTES for a multipart upload (the API's or a page's). Under WSGI a body
    without a Content-Length reads as empty, so the declared length is the whole story."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        multipart = request.content_type == "multipart/form-data"
        if not api and not multipart:
            return self.get_response(request)  # DATA_UPLOAD_MAX_MEMORY_SIZE guards page forms
        limit = settings.UPLOAD_MAX_BODY_BYTES if multipart else settings.API_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            detail = _("The Content-Length header is not a number.")
            if api:
                return JsonResponse(error_body("parse_error", detail), status=400)
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        if declared > limit:
            detail = _("The request body is larger than %(limit)d bytes.") % {"limit": limit}
            if api:
                return JsonResponse(error_body("request_too_large", detail), status=413)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
