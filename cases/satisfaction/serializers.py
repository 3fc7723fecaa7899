"""The customer's rating of a resolution: API shapes. `cases.satisfaction.services` decides."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.satisfaction.models import CaseRating
from portal.api.serializers import MULTILINE, StrictSerializer
from portal.text import TEXT_MAX


class CaseRatingSerializer(serializers.ModelSerializer):
    """The customer's rating of the item's resolution (null until rated)."""

    class Meta:
        model = CaseRating
        fields = ["score", "comment", "rated_by", "rated_at", "updated_at"]
        read_only_fields = fields


class RateSerializer(StrictSerializer):
    score = serializers.IntegerField(
        min_value=CaseRating.SCORE_MIN,
        max_value=CaseRating.SCORE_MAX,
        help_text=_("1 (very dissatisfied) to 5 (very satisfied)."),
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=TEXT_MAX, style=MULTILINE
    )
