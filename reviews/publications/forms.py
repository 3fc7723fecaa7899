"""Vendor news and roadmap announcements: forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from portal.text import TEXT_MAX
from reviews.publications.models import Publication


class PublicationForm(PortalForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Publication.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), max_length=TEXT_MAX, widget=forms.Textarea)
    major = forms.BooleanField(label=_("Major announcement"), required=False)
