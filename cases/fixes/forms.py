"""Fix requests, software performance reports (service function `software_performance_report`):
forms.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from cases.fixes.models import FixRequest
from engagements.contracts.models import Engagement
from portal.forms import PortalForm, ScopedForm


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
