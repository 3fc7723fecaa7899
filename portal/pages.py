"""Helpers shared by server-rendered pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.errors import DomainError, error_text, is_refusal
from portal.http import AuthenticatedHttpRequest

View = Callable[..., HttpResponse]


def _signed_in_and(allowed: Callable[[Any], bool], view: View) -> View:
    """The view for signed-in users that `allowed` accepts; others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not allowed(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view: View) -> View:
    """Signed-in provider admins only; others get 403."""
    return _signed_in_and(lambda user: user.is_provider_admin, view)


def provider_staff_required(view: View) -> View:
    """Signed-in provider staff (admins and service managers) only; customers get 403."""
    return _signed_in_and(lambda user: user.is_provider_staff, view)


def get_scoped_or_404(model: type[models.Model], **lookup: Any) -> Any:
    """Fetch by user-supplied id through the scoped manager: missing and not-yours look alike."""
    try:
        return get_object_or_404(model._default_manager.all(), **lookup)
    except (ValueError, TypeError) as exc:
        raise Http404 from exc


def apply_domain_error(form: Any, error: DomainError, *, refusal_page: bool = False) -> None:
    """Show a service's refusal on the form that caused it. With `refusal_page`, a refusal of
    rights or existence (403, 404) is not the form's: it propagates to the error page of
    `DomainErrorMiddleware` (the mapping the API shares)."""
    if refusal_page and is_refusal(error):
        raise error
    for field, field_messages in error.fields.items():
        target = field if field in form.fields else None
        for message in field_messages if isinstance(field_messages, list) else [field_messages]:
            form.add_error(target, message)
    if not error.fields:
        form.add_error(None, error.detail)


def flash_error(
    request: HttpRequest,
    error: DomainError,
    *,
    with_detail: bool = False,
    refusal_page: bool = False,
) -> None:
    """Tell of a service's refusal in a message on the next page (`error_text`). With
    `refusal_page`, a refusal of rights or existence (403, 404) propagates to the error page of
    `DomainErrorMiddleware` instead."""
    if refusal_page and is_refusal(error):
        raise error
    messages.error(request, error_text(error, with_detail=with_detail))


def status_change(
    request: HttpRequest, form: Any, change: Callable[[str], object], *, redirect_to: str
) -> HttpResponse:
    """The POST of an item's status menu: a valid choice goes to `change` (the service call,
    which checks who may do it: a refusal of rights answers the 403 page), any other refusal is
    told in a message; back to `redirect_to` either way."""
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    else:
        try:
            change(form.cleaned_data["status"])
        except DomainError as error:
            flash_error(request, error, refusal_page=True)
        else:
            messages.success(request, _("Status changed."))
    return redirect(redirect_to)


def require_admin(user: User) -> None:
    if not user.is_provider_admin:
        raise PermissionDenied


def rename_fields(error: DomainError, names: dict[str, str]) -> DomainError:
    """Point a service's field names at the form's, so errors show beside their inputs."""
    error.fields = {names.get(key, key): value for key, value in error.fields.items()}
    return error
