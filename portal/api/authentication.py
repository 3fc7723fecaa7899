"""Bearer tokens: `Authorization: Bearer smp_<key id>_<secret>`.

Each process keeps a token it has checked — the token row, its owner, and the owner's tenant
scope once the request has built it — for `API_TOKEN_CACHE_SECONDS` (at most 1 s), so a client
polling the API does not pay the token's and the scope's queries on every request. The secret
is checked against the kept hash and the expiry against the clock on every request; what changes
in the database (a revocation, a deactivated user, a membership ended, a new expiry) takes
effect within that time, and at once in the process that saved it (the signals below).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from portal.accounts.models import ApiToken, User
from portal.tenancy.models import Membership
from portal.tenancy.scoping import Scope, scope_for

LAST_USED_RESOLUTION = timedelta(minutes=1)
# Past this many kept tokens the expired ones are dropped (a bound on memory, not a limit).
CACHE_PRUNE_SIZE = 1000


@dataclass
class _Kept:
    token: ApiToken  # with its user loaded
    until: float  # time.monotonic() when it must be read again
    scope: Scope | None = None  # the owner's, once a request built it


_kept: dict[str, _Kept] = {}
_lock = threading.Lock()


def forget_tokens(**_ignored: Any) -> None:
    """Drop every kept token (a token, user or membership was saved in this process)."""
    with _lock:
        _kept.clear()


for _model in (ApiToken, User, Membership):
    post_save.connect(forget_tokens, sender=_model, dispatch_uid=f"forget_tokens_{_model.__name__}")
    post_delete.connect(
        forget_tokens, sender=_model, dispatch_uid=f"forget_tokens_deleted_{_model.__name__}"
    )


def _usable_token(key_id: str) -> ApiToken | None:
    return ApiToken.objects.usable().select_related("user").filter(key_id=key_id).first()


def _kept_token(key_id: str) -> _Kept | None:
    """The token of `key_id` as kept, or read (and kept) if not kept or kept too long."""
    seconds = settings.API_TOKEN_CACHE_SECONDS
    now = time.monotonic()
    kept = _kept.get(key_id) if seconds > 0 else None
    if kept is not None and kept.until > now:
        return kept
    token = _usable_token(key_id)
    if token is None:
        _kept.pop(key_id, None)
        return None
    kept = _Kept(token=token, until=now + seconds)
    if seconds > 0:
        with _lock:
            if len(_kept) >= CACHE_PRUNE_SIZE:
                for stale in [key for key, entry in _kept.items() if entry.until <= now]:
                    del _kept[stale]
            _kept[key_id] = kept
    return kept


def token_scope(request: Request) -> Scope:
    """The tenant scope of the request's user: for a kept token, the one kept with it (built
    once, its organization and engagement ids read once, while the token is kept)."""
    token = request.auth
    kept = _kept.get(token.key_id) if isinstance(token, ApiToken) else None
    if kept is None or kept.token is not getattr(token, "_kept_original", None):
        return scope_for(request.user)  # type: ignore[arg-type]  # the caller checked it
    if kept.scope is None:
        kept.scope = scope_for(kept.token.user)
    return kept.scope


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        parsed = ApiToken.parse(header[1])
        invalid = exceptions.AuthenticationFailed(_("The token is invalid, expired or revoked."))
        if parsed is None:
            raise invalid
        key_id, secret = parsed
        kept = _kept_token(key_id)
        if kept is None or not kept.token.matches(secret):
            raise invalid
        original = kept.token
        now = timezone.now()
        if original.expires_at is not None and original.expires_at <= now:
            raise invalid  # expired while kept
        if original.last_used_at is None or now - original.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=original.pk).update(last_used_at=now)
            original.last_used_at = now
        # Each request gets its own copies: nothing a request sets on them reaches another.
        token = copy.copy(original)
        token.user = copy.copy(original.user)
        token._kept_original = original  # type: ignore[attr-defined]  # token_scope's check
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the Bearer token to the OpenAPI schema."""

    target_class = "portal.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "smp_<key id>_<secret>",
            "description": "A token from “API tokens” or `manage.py create_api_token`.",
        }
