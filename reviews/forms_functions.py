"""Forms of the maintenance and change pages. They parse input; `reviews.services_functions`
decides the rules (who plans, valid times, status transitions)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from reviews.forms import DATETIME_INPUT
from reviews.models import ChangeItem, MaintenanceWindow

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


class ChangeItemForm(PortalForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChangeItem.Kind.choices)
    scheduled_at = forms.DateTimeField(
        label=_("Scheduled"), widget=DATETIME_INPUT, help_text=_("Your local time.")
    )
    impact = forms.CharField(label=_("Impact"), max_length=4000, required=False, widget=TEXTAREA)
    rollback_plan = forms.CharField(
        label=_("Rollback plan"), max_length=4000, required=False, widget=TEXTAREA
    )


class MaintenanceStatusForm(PortalForm):
    status = forms.ChoiceField(choices=MaintenanceWindow.Status.choices)


class ChangeStatusForm(PortalForm):
    status = forms.ChoiceField(choices=ChangeItem.Status.choices)
