"""The webhook form of the page under the API tokens page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from portal.webhooks.events import EVENTS


class WebhookForm(PortalForm):
    url = forms.URLField(
        label=_("Payload URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the portal posts each event (http or https, a public address)."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, f"{name} — {description}") for name, description in EVENTS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
