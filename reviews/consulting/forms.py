"""Environment consulting requests: forms."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Method
from portal.forms import PortalForm
from reviews.consulting.models import ConsultingRequest
from reviews.consulting.services import CONSULTING_METHODS
from reviews.enablement.forms import TEXTAREA
from reviews.scheduling.forms import DATETIME_INPUT


class ConsultingRequestForm(PortalForm):
    topic = forms.CharField(label=_("Topic"), max_length=200)
    environment_details = forms.CharField(
        label=_("Environment details"), max_length=8000, required=False, widget=TEXTAREA
    )
    desired_dates = forms.CharField(
        label=_("Desired dates"), max_length=2000, required=False, widget=TEXTAREA
    )


class ConsultingScheduleForm(PortalForm):
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=DATETIME_INPUT, help_text=_("Your local time.")
    )
    method = forms.ChoiceField(label=_("Method"), choices=[])
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=8 * 60, initial=60
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["method"]).choices = [
            (value, Method(value).label) for value in CONSULTING_METHODS
        ]


class ConsultingStatusForm(PortalForm):
    status = forms.ChoiceField(choices=ConsultingRequest.Status.choices)
