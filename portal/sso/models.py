"""A customer organization's single sign-on: its identity provider (OpenID Connect or SAML 2.0)
and the e-mail domains it owns. allauth's `openid_connect` and `saml` providers speak the
protocols; the app they use is built from this row (portal.sso.adapter), so the connection is
the one source of truth."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy.models import Organization
from portal.tenancy.scoping import TenantOwned

# allauth's provider id of a connection: "sso-<pk>", in its URLs (/accounts/oidc/sso-3/login/)
# and on the SocialAccount rows that remember who signed in; stable while the row lives.
PROVIDER_PREFIX = "sso-"


def _fernet() -> MultiFernet:
    """The client secret is stored encrypted with a key derived from SECRET_KEY (then each
    SECRET_KEY_FALLBACKS, so a rotated key still reads what the old one wrote)."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(hashlib.sha256(f"sso-client-secret:{k}".encode()).digest())
            )
            for k in keys
        ]
    )


class SsoConnection(TenantOwned):
    """One organization's identity provider (at most one per organization)."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="sso_connection",
        verbose_name=_("organization"),
    )
    name = models.CharField(
        _("provider name"),
        max_length=100,
        help_text=_('Shown on the button: "Sign in with <name>".'),
    )
    protocol = models.CharField(
        _("protocol"), max_length=4, choices=Protocol.choices, default=Protocol.OIDC
    )
    # OpenID Connect: the issuer and the client registered with it.
    issuer = models.URLField(_("issuer URL"), max_length=300, blank=True)
    client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    client_secret_encrypted = models.TextField(editable=False, blank=True)
    # SAML 2.0: the identity provider's entity ID, its single sign-on URL (HTTP-Redirect binding)
    # and the X.509 certificate it signs with (PEM); or the metadata URL they were read from.
    saml_entity_id = models.CharField(_("IdP entity ID"), max_length=300, blank=True)
    saml_sso_url = models.URLField(_("IdP single sign-on URL"), max_length=500, blank=True)
    saml_certificate = models.TextField(_("IdP signing certificate"), blank=True)
    saml_metadata_url = models.URLField(_("IdP metadata URL"), max_length=500, blank=True)
    saml_email_attribute = models.CharField(
        _("e-mail attribute"),
        max_length=200,
        blank=True,
        help_text=_(
            "The SAML attribute that holds the e-mail address; empty: the common names, "
            "then the NameID when it is an address."
        ),
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    require_sso = models.BooleanField(
        _("require single sign-on"),
        default=False,
        help_text=_("The organization's people cannot sign in with a password."),
    )
    allow_jit = models.BooleanField(
        _("create members on first sign-in"),
        default=False,
        help_text=_(
            "A person of the organization's domains who has no account yet becomes a member "
            "when they first sign in (never a named contact)."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        app_label = "portal"
        ordering = ["organization_id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="sso_connection_updated")]
        verbose_name = _("single sign-on connection")
        verbose_name_plural = _("single sign-on connections")

    def __str__(self) -> str:
        return f"{self.name} ({self.organization_id})"

    @property
    def provider_id(self) -> str:
        return f"{PROVIDER_PREFIX}{self.pk}"

    @property
    def is_saml(self) -> bool:
        return self.protocol == self.Protocol.SAML

    @property
    def normalized_issuer(self) -> str:
        return self.issuer.rstrip("/")

    @property
    def client_secret(self) -> str:
        if not self.client_secret_encrypted:
            return ""
        try:
            return _fernet().decrypt(self.client_secret_encrypted.encode()).decode()
        except InvalidToken:  # SECRET_KEY changed with no fallback: the admin enters it again
            return ""

    @client_secret.setter
    def client_secret(self, value: str) -> None:
        self.client_secret_encrypted = _fernet().encrypt(value.encode()).decode() if value else ""

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_encrypted)


class SsoDomain(TenantOwned):
    """An e-mail domain an organization owns; a domain belongs to one organization only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    connection = models.ForeignKey(
        SsoConnection,
        on_delete=models.CASCADE,
        related_name="domains",
        verbose_name=_("connection"),
    )
    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        app_label = "portal"
        ordering = ["domain"]
        verbose_name = _("single sign-on domain")
        verbose_name_plural = _("single sign-on domains")

    def __str__(self) -> str:
        return self.domain
