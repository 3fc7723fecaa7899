"""Domain errors with stable codes, and the error pages of the whole portal.

Services raise `DomainError` subclasses; the API answers them in the SPEC §8 format
`{"code", "detail", "fields"}`, pages show their message. Under /api/ even Django's own 404,
500 and CSRF failures answer in that format.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class DomainError(Exception):
    """A rule of the domain refused an operation."""

    status_code = 400
    code = "invalid"
    default_detail = gettext_lazy("The request was refused.")

    def __init__(
        self, detail: str | Promise | None = None, *, fields: dict[str, Any] | None = None
    ) -> None:
        self.detail = str(detail or self.default_detail)
        self.fields = fields or {}
        super().__init__(self.detail)


class NotEntitled(DomainError):
    status_code = 403
    code = "not_entitled"
    default_detail = gettext_lazy("The engagement's plan does not include this service function.")


class NotAllowed(DomainError):
    """The actor may not do this (HTTP 403, code permission_denied)."""

    status_code = 403
    code = "permission_denied"
    default_detail = gettext_lazy("You do not have permission to do this.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class EngagementNotActive(Conflict):
    """The engagement's term has ended or not yet started: customers raise nothing new on it
    (HTTP 409, code engagement_not_active); what it holds stays readable."""

    code = "engagement_not_active"
    default_detail = gettext_lazy("The engagement is not active: its term has ended or not begun.")


def error_body(code: str, detail: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": fields or {}}


def is_refusal(error: DomainError) -> bool:
    """A refusal of rights or of existence (403, 404): a page answers it with the error page,
    not on the form that caused it."""
    return error.status_code in (403, 404)


PAGE_TEMPLATES = {403: "403.html", 404: "404.html", 409: "409.html"}


def domain_error_response(request: HttpRequest, error: DomainError) -> HttpResponse:
    """The one mapping of a refused operation to an answer: the SPEC §8 body under /api/ (the
    API's exception handler returns the same), otherwise the error page with the reason, both
    with the error's status. Pages that show a refusal on a form do so before it gets here."""
    if _is_api(request):
        return JsonResponse(
            error_body(error.code, error.detail, error.fields), status=error.status_code
        )
    template = PAGE_TEMPLATES.get(error.status_code, "400.html")
    return render(request, template, {"detail": error.detail}, status=error.status_code)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("server_error", _("A server error occurred.")), status=500)
    return render(request, "500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", _("You do not have permission to do this.")),
            status=403,
        )
    return render(request, "403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", _("The request was malformed.")), status=400)
    return render(request, "400.html", status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    detail = _("The CSRF check failed; reload the page and try again.")
    if _is_api(request):
        return JsonResponse(error_body("csrf_failed", detail), status=403)
    return render(request, "403.html", {"detail": detail}, status=403)


class InvalidInput(DomainError):
    """Input that a service refused; `fields` names what is wrong."""

    status_code = 400
    code = "validation_error"
    default_detail = gettext_lazy("The input is not valid.")


def error_text(error: DomainError, *, with_detail: bool = False) -> str:
    """A service's refusal as sentences for a message: what to fix (the field messages), else
    the detail. `with_detail`: a refusal other than invalid input leads with its detail."""
    details = [
        str(message)
        for messages_ in error.fields.values()
        for message in (messages_ if isinstance(messages_, list) else [messages_])
    ]
    if with_detail and not (isinstance(error, InvalidInput) and details):
        return " ".join([error.detail, *details])
    return " ".join(details) if details else error.detail


def refuse_unknown_fields(changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
