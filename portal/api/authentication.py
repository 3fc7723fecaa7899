"""Bearer tokens: `Authorization: Bearer smp_<key id>_<secret>`."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from portal.accounts.models import ApiToken, User

LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        token = ApiToken.objects.usable().select_related("user").filter(key_id=key_id).first()
        if token is None or not token.matches(secret):
            raise invalid
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
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
