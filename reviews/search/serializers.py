"""Global search: the API's input and output shapes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.api.serializers import StrictSerializer
from reviews.search.forms import clean_query
from reviews.search.selectors import MAX_LENGTH, MIN_LENGTH, Kind


class SearchQuerySerializer(StrictSerializer):
    """`q` (2–100 characters, at most 8 words; no control characters) and optionally one
    `type`."""

    q = serializers.CharField(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        help_text=_("The words to find: 2–100 characters, at most 8 words."),
    )
    type = serializers.ChoiceField(
        choices=Kind.choices,
        required=False,
        help_text=_("Only this kind of result (default: every kind)."),
    )

    def validate_q(self, value: str) -> str:
        return clean_query(value)


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    url = serializers.CharField(help_text=_("The page of the result (a path)."))
    organization = serializers.CharField(help_text=_("Its organization's name, or empty."))
    engagement = serializers.CharField(help_text=_("Its engagement's name, or empty."))
    status = serializers.CharField(
        help_text=_(
            "Cases: their status; engagements: upcoming, active or expired; organizations: "
            "active or inactive; sessions: due, overdue, completed, missed or cancelled."
        )
    )
    at = serializers.DateTimeField(
        allow_null=True, help_text=_("When a case was received or a session is scheduled.")
    )
    snippet = serializers.CharField(help_text=_("Text around the first word found, or empty."))


class SearchGroupSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=Kind.choices, source="kind")
    count = serializers.IntegerField(help_text=_("Every match of this kind."))
    results = SearchHitSerializer(many=True, source="hits", help_text=_("The best matches."))


class SearchResultsSerializer(serializers.Serializer):
    q = serializers.CharField()
    groups = SearchGroupSerializer(many=True)
