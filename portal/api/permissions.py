"""Permissions shared by every API view."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from portal.accounts.models import ApiToken


class TokenScopePermission(permissions.BasePermission):
    """A token narrows its owner's rights: reads need `read`, writes need `write`."""

    message = _("The token's scopes do not allow this request.")

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True  # session: the user's own rights
        needed = (
            ApiToken.Scope.READ
            if request.method in permissions.SAFE_METHODS
            else ApiToken.Scope.WRITE
        )
        return token.allows(needed)


class IsProviderAdmin(permissions.BasePermission):
    message = _("Only provider admins may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user and request.user.is_authenticated and request.user.is_provider_admin
        )


class AdminWritesOthersRead(permissions.BasePermission):
    """Everyone signed in reads what their scope shows; only provider admins write."""

    message = _("Only provider admins may change this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_authenticated and request.user.is_provider_admin)
