"""The advocacy log (service function `customer_advocacy`): forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.advocacy.models import AdvocacyItem
from portal.forms import PortalForm, long_text_field


class AdvocacyItemForm(PortalForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=AdvocacyItem.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = long_text_field(_("Description"))


class AdvocacyStaffForm(AdvocacyItemForm):
    status = forms.ChoiceField(label=_("Status"), choices=AdvocacyItem.Status.choices)
    outcome = long_text_field(_("Outcome"))
    internal_reference = forms.CharField(
        label=_("Internal reference"), max_length=100, required=False
    )
