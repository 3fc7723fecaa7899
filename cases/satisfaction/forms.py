"""The rating form on the item's page. It parses input; `cases.satisfaction.services` decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.satisfaction.models import CaseRating
from portal.forms import PortalForm
from portal.text import TEXT_MAX

SCORES = [(score, str(score)) for score in range(CaseRating.SCORE_MIN, CaseRating.SCORE_MAX + 1)]


class RatingForm(PortalForm):
    score = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=SCORES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("1 (very dissatisfied) to 5 (very satisfied)."),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        required=False,
    )
