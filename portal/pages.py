"""Helpers shared by server-rendered pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from portal.errors import DomainError
from portal.http import AuthenticatedHttpRequest


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in provider admins only; others get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_provider_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def get_scoped_or_404(model: type[models.Model], **lookup: Any) -> Any:
    """Fetch by user-supplied id through the scoped manager: missing and not-yours look alike."""
    try:
        return get_object_or_404(model._default_manager.all(), **lookup)
    except (ValueError, TypeError) as exc:
        raise Http404 from exc


def apply_domain_error(form: Any, error: DomainError) -> None:
    """Show a service's refusal on the form that caused it."""
    for field, messages in error.fields.items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(target, message)
    if not error.fields:
        form.add_error(None, error.detail)
