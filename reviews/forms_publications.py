"""Forms of the publication, enablement and consulting pages. They parse input;
`reviews.services_publications` decides the rules."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from engagements.models import Method
from portal.forms import PortalForm
from reviews.forms import DATETIME_INPUT
from reviews.models import ConsultingRequest, Publication
from reviews.services_publications import CONSULTING_METHODS

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class PublicationForm(PortalForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Publication.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(label=_("Text"), max_length=20000, widget=forms.Textarea)
    major = forms.BooleanField(label=_("Major announcement"), required=False)


class TrainingResourceForm(PortalForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.URLField(label=_("Link"), max_length=500, assume_scheme="https")
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=TEXTAREA
    )


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
