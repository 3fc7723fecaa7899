"""Page forms of single sign-on (parse input only; portal.sso.services checks the rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import ScopedForm


class SsoConnectionForm(ScopedForm):
    name = forms.CharField(
        label=_("Provider name"),
        max_length=100,
        help_text=_('Shown on the button: "Sign in with <name>".'),
    )
    issuer = forms.URLField(
        label=_("Issuer URL"),
        max_length=300,
        assume_scheme="https",
        help_text=_("The provider's issuer, such as https://login.example.com/realms/acme."),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the stored one."),
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
