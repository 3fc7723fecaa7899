"""Every API error in one shape: {"code": "...", "detail": "...", "fields": {...}}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from portal.dbfaults import busy
from portal.errors import DomainError, error_body
from portal.locks import is_lock_conflict
from portal.tenancy.scoping import ScopeError

logger = logging.getLogger(__name__)

CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_response(detail: Any) -> Response:
    fields = _flatten(detail) if isinstance(detail, dict) else {}
    non_field = fields.pop("non_field_errors", None) if fields else None
    if isinstance(detail, list):
        non_field = _flatten(detail)
    message = " ".join(non_field) if non_field else _("The input is not valid.")
    if non_field and fields:
        fields["non_field_errors"] = non_field
    return Response(error_body("validation_error", message, fields), status=400)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse:
    """DRF's exception handler for the whole API, including unexpected errors (500)."""
    set_rollback()
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.detail, exc.fields), status=exc.status_code)
        # (the same body and status as portal.errors.domain_error_response)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)
    if isinstance(exc, DjangoValidationError):
        return _validation_response(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(_("The request was malformed."))
    if isinstance(exc, exceptions.APIException):
        code = CODES.get(type(exc)) or next(
            (value for kind, value in CODES.items() if isinstance(exc, kind)),
            exc.default_code,
        )
        response = Response(error_body(code, str(exc.detail)), status=exc.status_code)
        if auth_header := getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = auth_header
        if (wait := getattr(exc, "wait", None)) is not None:
            response["Retry-After"] = str(int(wait))
        return response
    if is_lock_conflict(exc):
        # Aborted by a deadlock or a serialization failure and not retried: 503, try again.
        logger.warning("Lock conflict left over in the API", exc_info=exc)
        return busy(context["request"])
    if isinstance(exc, ScopeError):
        logger.error("Unscoped query in the API", exc_info=exc)
    else:
        logger.exception("Unhandled API error", exc_info=exc)
    return Response(error_body("server_error", _("A server error occurred.")), status=500)
