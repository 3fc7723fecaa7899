"""Saved views of the case list: API shapes."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from cases.savedviews.models import SavedView
from portal.api.serializers import StrictModelSerializer, StrictSerializer


class SavedViewSerializer(StrictModelSerializer):
    url = serializers.SerializerMethodField(help_text="The case list page showing the view.")

    class Meta:
        model = SavedView
        fields = ["id", "name", "query", "is_default", "created_at", "url"]
        read_only_fields = ["id", "created_at", "url"]
        extra_kwargs = {
            "query": {
                "help_text": "The case list's query string: its filters (q, engagement, status, "
                "kind, severity, state, queue) and sort; anything else is dropped."
            },
            # Uniqueness per owner is the service's (a validation_error on `name`).
            "name": {"validators": []},
        }

    def get_url(self, view: SavedView) -> str:
        url = reverse("case_list")
        return f"{url}?{view.query}" if view.query else url


class SavedViewUpdateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80, required=False)
    is_default = serializers.BooleanField(required=False)
