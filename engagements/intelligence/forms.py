"""The customer profile (service function `customer_intelligence`): forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm

TEXT_MAX = 20_000


def _text(label: Any, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=TEXT_MAX,
        help_text=help_text,
    )


class CustomerProfileForm(PortalForm):
    roadmap = _text(_("Roadmap"), _("Where the customer is heading with the platform."))
    use_cases = _text(_("Use cases"))
    priorities = _text(_("Priorities"))
    key_dates = _text(_("Key dates"), _("Go-lives, freezes, audits, renewals."))
