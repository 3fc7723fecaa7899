"""allauth's social sign-in, held to the portal's rules for customer organizations.

allauth's `openid_connect` provider speaks OpenID Connect (discovery, authorization code with
PKCE, the token endpoint, the ID token's issuer, audience and expiry); its `saml` provider speaks
SAML 2.0 through python3-saml (HTTP-Redirect out, HTTP-POST back to the ACS, in strict mode: the
response's destination, audience, issuer, validity window and signature by the IdP's configured
certificate; a response signed nowhere is refused). Their app is built here from the
organization's SsoConnection (`list_apps`), so there are no SocialApp rows to keep in step.
The hooks decide who may come in:

- `pre_social_login`: the connection is enabled; the e-mail is verified and of a domain the
  organization owns; the person is a customer of that organization (never staff, never another
  organization's). A first sign-in links to the provisioned person with that address.
  OpenID Connect: the ID token's issuer and audience are the connection's and `email_verified`
  is true. SAML has no such claim: an address counts as verified when the assertion carrying it
  was signed with the certificate the organization configured (python3-saml checked that before
  this hook runs) and its domain is one the organization owns.
- `is_open_for_signup`: only where the organization allows just-in-time members; `save_user`
  then makes a member (never a named contact).
- `on_authentication_error`: a token with another issuer or audience, or a provider that
  cannot be reached, is refused in words; so is a SAML response signed with another key, not
  signed at all, for another audience, or out of its validity window.
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
from django.core.validators import validate_email
from django.forms import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
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
    "bad_signature": _(
        "The identity provider's answer was not signed with the certificate your organization "
        "set up. Nobody was signed in; tell your organization's administrator."
    ),
    "unsigned": _(
        "The identity provider's answer was not signed, so it cannot sign anyone in here. "
        "Nobody was signed in; tell your organization's administrator."
    ),
    "expired": _(
        "The identity provider's answer has expired or is not valid yet. Sign in again; if it "
        "keeps happening, tell your organization's administrator."
    ),
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


# The SAML attributes an e-mail address is read from when the connection names none (then the
# NameID, when it is an address), and those a display name is read from.
SAML_EMAIL_ATTRIBUTES = [
    "email",
    "mail",
    "emailAddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:1.2.840.113549.1.9.1",
]
SAML_NAME_ATTRIBUTES = [
    "name",
    "displayName",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
]


def saml_urls(organization_slug: str) -> dict[str, str]:
    """What the organization gives its identity provider: the portal's entity ID (its metadata
    URL), the assertion consumer service (HTTP-POST) and the metadata document. They name the
    organization's short name, so they are known before the connection is saved (and change
    with the short name)."""
    slug = {"organization_slug": organization_slug}
    metadata = settings.SITE_URL + reverse("saml_metadata", kwargs=slug)
    return {
        "sp_entity_id": metadata,
        "acs_url": settings.SITE_URL + reverse("saml_acs", kwargs=slug),
        "metadata_url": metadata,
    }


def build_saml_app(connection: SsoConnection) -> SocialApp:
    """allauth's `saml` app of a connection. Its client ID is the name in its URLs
    (/accounts/saml/<client ID>/acs/): the organization's short name. Its provider id stays
    "sso-<pk>", which the SocialAccount rows of the people who signed in keep."""
    email_attributes = (
        [connection.saml_email_attribute]
        if connection.saml_email_attribute
        else SAML_EMAIL_ATTRIBUTES
    )
    return SocialApp(
        provider="saml",
        provider_id=connection.provider_id,
        name=connection.name,
        client_id=connection.organization.slug,
        settings={
            "idp": {
                "entity_id": connection.saml_entity_id,
                "sso_url": connection.saml_sso_url,
                "x509cert": connection.saml_certificate,
            },
            "sp": {"entity_id": saml_urls(connection.organization.slug)["sp_entity_id"]},
            "attribute_mapping": {
                "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
                "email": email_attributes,
                "name": SAML_NAME_ATTRIBUTES,
                "first_name": ["givenName", "urn:oid:2.5.4.42"],
                "last_name": ["sn", "surname", "urn:oid:2.5.4.4"],
            },
            # No e-mail attribute: the NameID is taken, and pre_social_login refuses it unless it
            # is an address of an owned domain.
            "use_nameid_for_email": not connection.saml_email_attribute,
            "advanced": {
                "strict": True,
                # A response signed nowhere is refused by python3-saml in strict mode; a
                # signature on the response (which encloses the assertion) or on the assertion
                # must verify with the configured certificate.
                "want_attribute_statement": False,
                "reject_deprecated_algorithm": True,
                "reject_idp_initiated_sso": True,
                # An intranet IdP (https://sso/...) is a URL too.
                "allow_single_label_domains": True,
            },
        },
    )


def build_app(connection: SsoConnection) -> SocialApp:
    """allauth's app for a connection, never saved (`list_apps` builds it on every request)."""
    if connection.is_saml:
        return build_saml_app(connection)
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


def saml_refusal(reason: str) -> str:
    """The refusal for python3-saml's reason a response was not valid."""
    text = reason.lower()
    if "no signature found" in text or "not signed" in text:
        return "unsigned"
    if "signature" in text or "fingerprint" in text or "certificate" in text:
        return "bad_signature"
    if "audience" in text:
        return "wrong_audience"
    if "expired" in text or "timestamp" in text or "subjectconfirmation" in text:
        return "expired"
    if "issuer" in text:
        return "wrong_issuer"
    return "failed"


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
        if provider == "saml":  # the SAML views look their app up by its client ID
            if not client_id:
                return []
            connection = selectors.connection_for_organization_slug(client_id)
            if connection is None or not connection.is_saml:
                return []
            return [build_saml_app(connection)]
        connection = selectors.connection_for_provider_id(provider)
        if connection is None:
            return []
        expected = connection.organization.slug if connection.is_saml else connection.client_id
        if client_id and client_id != expected:
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
        if connection.is_saml:
            email = self._saml_email(request, sociallogin, connection)
        else:
            email = self._oidc_email(request, sociallogin, connection)
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

    def _saml_email(
        self, request: HttpRequest, sociallogin: SocialLogin, connection: SsoConnection
    ) -> str:
        """The address the signed assertion gives (its mapped attribute, else the NameID):
        allauth's provider put it among the login's addresses."""
        addresses = [a.email for a in sociallogin.email_addresses if a.email]
        email = str(addresses[0] if addresses else "").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            refuse(request, "no_email", connection)
        return email

    def _oidc_email(
        self, request: HttpRequest, sociallogin: SocialLogin, connection: SsoConnection
    ) -> str:
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
        return email

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        connection = _connection(sociallogin)
        return bool(connection and connection.is_enabled and connection.allow_jit)

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True  # never a sign-up form: pre_social_login checked the address

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = str(data.get("email") or "").strip().lower()
        name = data.get("name") or " ".join(
            str(part) for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.name = str(name or "")[:150]
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
        reason = str((extra_context or {}).get("saml_last_error_reason") or "")
        if reason:
            refuse(request, saml_refusal(reason), connection)
        logger.warning("single sign-on failed: %r", exception)
        refuse(request, "failed", connection)
