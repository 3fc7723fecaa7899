"""Release management: announced changes and their acknowledgements: forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PortalForm
from reviews.maintenance.forms import TEXTAREA
from reviews.releases.models import ChangeItem
from reviews.scheduling.forms import DATETIME_INPUT


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


class ChangeStatusForm(PortalForm):
    status = forms.ChoiceField(choices=ChangeItem.Status.choices)
