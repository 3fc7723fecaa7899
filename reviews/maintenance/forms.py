"""Maintenance windows (service function `maintenance_planning`): forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from reviews.maintenance.models import MaintenanceWindow
from reviews.scheduling.forms import DATETIME_INPUT

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class MaintenanceWindowForm(PortalForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=DATETIME_INPUT, help_text=_("Your local time.")
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"), widget=DATETIME_INPUT, help_text=_("Your local time.")
    )
    systems_affected = forms.CharField(
        label=_("Systems affected"), max_length=4000, required=False, widget=TEXTAREA
    )
    expected_impact = forms.CharField(
        label=_("Expected impact"), max_length=4000, required=False, widget=TEXTAREA
    )


class MaintenanceStatusForm(PortalForm):
    status = forms.ChoiceField(choices=MaintenanceWindow.Status.choices)
