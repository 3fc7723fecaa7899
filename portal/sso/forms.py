"""Page forms of single sign-on (parse input only; portal.sso.services checks the rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import ScopedForm
from portal.sso.models import SsoConnection


class SsoConnectionForm(ScopedForm):
    name = forms.CharField(
        label=_("Provider name"),
        max_length=100,
        help_text=_('Shown on the button: "Sign in with <name>".'),
    )
    protocol = forms.ChoiceField(
        label=_("Protocol"),
        choices=SsoConnection.Protocol.choices,
        required=False,  # not given: the connection's own (OpenID Connect for a new one)
        initial=SsoConnection.Protocol.OIDC,
        widget=forms.RadioSelect,
    )
    issuer = forms.URLField(
        label=_("Issuer URL"),
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text=_(
            "OpenID Connect: the provider's issuer, such as https://login.example.com/realms/acme."
        ),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255, required=False)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the stored one."),
    )
    saml_metadata_url = forms.CharField(
        label=_("IdP metadata URL"),
        max_length=500,
        required=False,
        help_text=_(
            "SAML: where the identity provider publishes its metadata. When given, the entity "
            "ID, single sign-on URL and certificate are read from it on every save."
        ),
    )
    saml_entity_id = forms.CharField(
        label=_("IdP entity ID"),
        max_length=300,
        required=False,
        help_text=_("SAML: the identity provider's entity ID (its Issuer)."),
    )
    saml_sso_url = forms.CharField(
        label=_("IdP single sign-on URL"),
        max_length=500,
        required=False,
        help_text=_("SAML: the identity provider's sign-in URL (HTTP-Redirect binding)."),
    )
    saml_certificate = forms.CharField(
        label=_("IdP signing certificate"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "SAML: the X.509 certificate the identity provider signs with, in PEM form. "
            "Responses not signed with it are refused."
        ),
    )
    saml_email_attribute = forms.CharField(
        label=_("E-mail attribute"),
        max_length=200,
        required=False,
        help_text=_(
            "SAML: the attribute that holds the e-mail address; empty: the common names "
            "(email, mail, ...), then the NameID when it is an address."
        ),
    )
    domains = forms.CharField(
        label=_("E-mail domains"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The domains the organization owns, one a line (example.com)."),
    )
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    require_sso = forms.BooleanField(
        label=_("Require single sign-on"),
        required=False,
        help_text=_("The organization's people cannot sign in with a password."),
    )
    allow_jit = forms.BooleanField(
        label=_("Create members on first sign-in"),
        required=False,
        help_text=_(
            "A person of the organization's domains who has no account yet becomes a member "
            "when they first sign in (never a named contact)."
        ),
    )


class SsoLookupForm(ScopedForm):
    email = forms.EmailField(label=_("Work e-mail address"), max_length=254)
