"""Forms of the risk register and fix request pages. They parse input; the services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Case, FixRequest, Risk
from engagements.forms import StaffChoiceField, active_provider_staff
from engagements.models import Engagement
from portal.forms import PortalForm, ScopedForm

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


class FixRequestForm(ScopedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    case = forms.ModelChoiceField(
        label=_("Related case"), queryset=Case.objects.none(), required=False
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["case"]).queryset = Case.objects.filter(
            engagement=engagement
        )


class VendorStatusForm(PortalForm):
    vendor_status = forms.ChoiceField(
        label=_("Vendor status"), choices=FixRequest.VendorStatus.choices
    )
    target_release = forms.CharField(label=_("Target release"), max_length=100, required=False)
