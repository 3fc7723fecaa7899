"""The entitlement gate for pages and API lists of engagement-level service functions.

Pages: `engagement_page(code)` fetches the engagement through the tenant scope (404 like a
missing one), then answers the 403 page naming the function when the plan lacks it.
API: `EntitledListMixin` refuses `?engagement=` of an engagement whose plan lacks the function.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import require_entitlement
from engagements.models import Engagement
from portal.errors import NotAllowed, NotEntitled
from portal.pages import refused

View = Callable[..., HttpResponse]


def engagement_page(function_code: str) -> Callable[[View], View]:
    """Signed-in users; the engagement through the scope (404), then the plan (403)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
            engagement = get_object_or_404(
                Engagement.objects.select_related("organization", "plan", "manager"), pk=pk
            )
            try:
                require_entitlement(engagement, function_code)
                return view(request, engagement, *args, **kwargs)
            except (NotAllowed, NotEntitled) as error:
                return refused(request, error)

        return wrapper

    return decorate


class EntitledListMixin:
    """Lists show entitled engagements only; `?engagement=` of one not entitled answers 403."""

    function_code: str

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        raw = request.query_params.get("engagement", "").strip()
        if raw.isdigit():
            engagement = Engagement.objects.select_related("plan").filter(pk=int(raw)).first()
            if engagement is not None:
                require_entitlement(engagement, self.function_code)
        return super().list(request, *args, **kwargs)  # type: ignore[misc]
