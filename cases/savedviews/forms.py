"""Saved views of the case list: the page's form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.savedviews.services import NAME_MAX
from portal.forms import PortalForm


class SavedViewForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=4000)
    is_default = forms.BooleanField(label=_("Open the list with this view"), required=False)
