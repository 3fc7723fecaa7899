"""The risk register (service function `risk_mitigation`): forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.risks.models import Risk
from engagements.contracts.forms import StaffChoiceField, active_provider_staff
from portal.forms import ScopedForm

RATING = [(value, str(value)) for value in range(1, 6)]


class RiskForm(ScopedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    likelihood = forms.TypedChoiceField(
        label=_("Likelihood"), choices=RATING, coerce=int, help_text=_("1 rare – 5 almost certain")
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=RATING, coerce=int, help_text=_("1 negligible – 5 severe")
    )
    mitigation_plan = forms.CharField(
        label=_("Mitigation plan"), widget=forms.Textarea, required=False
    )
    owner = StaffChoiceField(label=_("Owner"), queryset=active_provider_staff(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Risk.Status.choices)
    next_review_date = forms.DateField(
        label=_("Next review"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = active_provider_staff()
