"""The enablement (training) catalog: forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class TrainingResourceForm(PortalForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(label=_("Link"), max_length=500, assume_scheme="https")
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=TEXTAREA
    )
