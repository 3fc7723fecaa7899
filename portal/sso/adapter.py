"""allauth's social sign-in, held to the portal's rules for customer organizations.

allauth's `openid_connect` provider speaks the protocol (discovery, authorization code with
PKCE, the token endpoint, the ID token's issuer, audience and expiry). Its app is built here from
the organization's SsoConnection (`list_apps`), so there are no SocialApp rows to keep in step.
The hooks decide who may come in:

- `pre_social_login`: the connection is enabled; the ID token's issuer is the connection's; the
  e-mail is verified (`email_verified` true) and of a domain the organization owns; the person
  is a customer of that organization (never staff, never another organization's). A first
  sign-in links to the provisioned person with that address.
- `is_open_for_signup`: only where the organization allows just-in-time members; `save_user`
  then makes a member (never a named contact).
- `on_authentication_error`: a token with another issuer or audience, or a provider that
  cannot be reached, is refused in words.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.base.constants import AuthError
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import User
from portal.sso import selectors, services
from portal.sso.models import SsoConnection
from portal.tenancy.scoping import system_scope

logger = logging.getLogger(__name__)

REFUSALS: dict[str, Promise] = {
    "disabled": _(
        "Single sign-on is switched off for your organization. Ask your organization's "
        "administrator, or sign in with your password."
    ),
    "wrong_issuer": _(
        "The identity provider's answer came from another issuer than the one your organization "
        "set up. Nobody was signed in; tell your organization's administrator."
    ),
    "wrong_audience": _(
        "The identity provider's answer was meant for another application. Nobody was signed "
        "in; tell your organization's administrator."
    ),
    "unverified_email": _(
        "Your identity provider has not verified your e-mail address, so it cannot sign you in "
        "here. Verify the address with your identity provider and try again."
    ),
    "no_email": _(
        "Your identity provider did not give an e-mail address, so it cannot sign you in here."
    ),
    "foreign_domain": _(
        "Your e-mail address is not of a domain your organization owns, so this identity "
        "provider cannot sign you in. Use your organization's own sign-in."
    ),
    "other_organization": _(
        "Your account does not belong to the organization of this identity provider. Use your "
        "own organization's sign-in."
    ),
    "staff": _(
        "Provider staff sign in with their password and authenticator code, not through a "
        "customer's identity provider."
    ),
    "no_account": _(
        "There is no account for your e-mail address yet. Ask your organization's administrator "
        "or the service provider to add you."
    ),
    "inactive": _("Your account is switched off. Ask your organization's administrator."),
    "failed": _(
        "Signing in through your identity provider did not succeed. Try again; if it keeps "
        "failing, tell your organization's administrator."
    ),
}


def refusal_response(
    request: HttpRequest, code: str, connection: SsoConnection | None = None
) -> HttpResponse:
    logger.warning(
        "single sign-on refused: %s (connection %s)", code, connection.pk if connection else None
    )
    return render(
        request,
        "sso/refused.html",
        {"code": code, "message": REFUSALS[code], "connection": connection},
        status=403,
    )


def refuse(request: HttpRequest, code: str, connection: SsoConnection | None = None) -> None:
    raise ImmediateHttpResponse(refusal_response(request, code, connection))


def build_app(connection: SsoConnection) -> SocialApp:
    """allauth's app for a connection, never saved (`list_apps` builds it on every request)."""
    app = SocialApp(
        provider="openid_connect",
        provider_id=connection.provider_id,
        name=connection.name,
        client_id=connection.client_id,
        secret=connection.client_secret,
        settings={"server_url": connection.issuer},
    )
    return app


def _connection(sociallogin: SocialLogin) -> SsoConnection | None:
    return selectors.connection_for_provider_id(sociallogin.account.provider)


def _claims(sociallogin: SocialLogin) -> dict[str, Any]:
    """What the provider said of the person: userinfo where fetched, else the ID token (as
    allauth's provider reads it)."""
    extra = sociallogin.account.extra_data or {}
    return extra.get("userinfo") or extra.get("id_token") or {}


class _ProviderSession(requests.Session):
    """allauth's HTTP session to a provider: a provider that cannot be reached, times out, or
    answers a GET (discovery, keys, userinfo) with an error or no JSON is a clear refusal page,
    never a 500 (allauth's start of a sign-in lets such errors through)."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", settings.SOCIALACCOUNT_REQUESTS_TIMEOUT)
        try:
            response = super().request(method, url, *args, **kwargs)
            if str(method).upper() == "GET":
                response.raise_for_status()
                response.json()
        except requests.RequestException as error:
            logger.warning("identity provider unusable: %s %s: %r", method, url, error)
            raise ImmediateHttpResponse(refusal_response(context.request, "failed")) from error
        return response


class PortalSocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_requests_session(self) -> requests.Session:
        return _ProviderSession()

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        # Only by provider id: the list of every organization's provider is nobody's to see.
        if not provider or provider == "openid_connect":
            return []
        connection = selectors.connection_for_provider_id(provider)
        if connection is None or (client_id and client_id != connection.client_id):
            return []
        return [build_app(connection)]

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        connection = _connection(sociallogin)
        if connection is None:
            refuse(request, "failed")
            return
        if sociallogin.state.get("process") != AuthProcess.LOGIN:
            # Connecting a provider account to whoever is signed in (allauth's "connect") would
            # skip the rule that the account is the one with the verified address: sign-in only.
            refuse(request, "failed", connection)
        if not connection.is_enabled:
            refuse(request, "disabled", connection)
        id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
        if str(id_token.get("iss", "")).rstrip("/") != connection.normalized_issuer:
            refuse(request, "wrong_issuer", connection)
        audience = id_token.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if connection.client_id not in audiences:
            refuse(request, "wrong_audience", connection)
        claims = _claims(sociallogin)
        email = str(claims.get("email") or "").strip().lower()
        if not email:
            refuse(request, "no_email", connection)
        if claims.get("email_verified") not in (True, "true", "True"):
            refuse(request, "unverified_email", connection)
        if not selectors.owns_domain(connection, email):
            refuse(request, "foreign_domain", connection)
        user = sociallogin.user if sociallogin.is_existing else None
        if user is None:
            user = User.objects.filter(email__iexact=email).first()
        if user is None:
            if not connection.allow_jit:
                refuse(request, "no_account", connection)
            return  # allauth's sign-up: is_open_for_signup, populate_user, save_user
        if user.is_provider_staff:
            refuse(request, "staff", connection)
        if not selectors.is_member(user, connection):
            refuse(request, "other_organization", connection)
        if not user.is_active:
            refuse(request, "inactive", connection)
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        connection = _connection(sociallogin)
        return bool(connection and connection.is_enabled and connection.allow_jit)

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True  # never a sign-up form: pre_social_login checked the address

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = str(data.get("email") or "").strip().lower()
        user.name = str(data.get("name") or "")[:150]
        user.kind = User.Kind.CUSTOMER
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        connection = _connection(sociallogin)
        if connection is None or not connection.allow_jit:
            refuse(request, "no_account", connection)
            return None
        with system_scope("single sign-on makes a member of the connection's organization"):
            user = super().save_user(request, sociallogin, form)
            services.sso_member_join(connection=connection, user=user)
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict | None = None,
    ) -> None:
        if error == AuthError.CANCELLED:
            return
        connection = selectors.connection_for_provider_id(getattr(provider, "sub_id", "") or "")
        cause = exception.__cause__ if exception is not None else None
        if isinstance(cause, jwt.InvalidIssuerError):
            refuse(request, "wrong_issuer", connection)
        if isinstance(cause, jwt.InvalidAudienceError):
            refuse(request, "wrong_audience", connection)
        logger.warning("single sign-on failed: %r", exception)
        refuse(request, "failed", connection)
