"""Open the signed-in user's tenant scope for the whole request."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal.tenancy.scoping import activate, deactivate, scope_for


class TenantScopeMiddleware:
    """Anonymous requests get no scope: a tenant-owned query then raises, never leaks."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        token = activate(scope_for(user) if user.is_authenticated and user.is_active else None)
        try:
            return self.get_response(request)
        finally:
            deactivate(token)
