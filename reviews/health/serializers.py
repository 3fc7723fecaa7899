"""Engagement health and overdue action items: API shapes (read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from reviews.health.scoring import Level
from reviews.scheduling.models import ActionItem


class HealthFactorSerializer(serializers.Serializer):
    """One factor's contribution: what it measured, against what, and the points it cost."""

    code = serializers.ChoiceField(
        choices=["sla", "sessions", "severe_items", "action_items", "hours"]
    )
    name = serializers.CharField(source="label", help_text="What the factor measures.")
    figure = serializers.CharField(help_text="The raw figure, in words.")
    threshold = serializers.CharField(help_text="What is healthy and what costs points.")
    points = serializers.IntegerField(help_text="Points deducted from 100.")
    max_points = serializers.IntegerField()


class HealthInputsSerializer(serializers.Serializer):
    items_due = serializers.IntegerField()
    items_met = serializers.IntegerField()
    attainment_pct = serializers.FloatField(allow_null=True)
    sessions_missed = serializers.IntegerField()
    sessions_overdue = serializers.IntegerField()
    open_sev0 = serializers.IntegerField()
    open_sev1 = serializers.IntegerField()
    action_items_overdue = serializers.IntegerField()
    average_minutes = serializers.IntegerField()
    cap_minutes = serializers.IntegerField()


class EngagementHealthSerializer(serializers.Serializer):
    """An engagement's health: 100 less each factor's points; `level` healthy from 80, watch
    from 60, at_risk below. Provider staff only."""

    engagement = serializers.IntegerField()
    engagement_name = serializers.CharField()
    score = serializers.IntegerField(min_value=0, max_value=100)
    level = serializers.ChoiceField(choices=[level.value for level in Level])
    level_label = serializers.CharField()
    factors = HealthFactorSerializer(many=True)
    inputs = HealthInputsSerializer()


def health_data(engagement: Any, health: Any, inputs: Any) -> dict[str, Any]:
    return {
        "engagement": engagement.pk,
        "engagement_name": engagement.name,
        "score": health.score,
        "level": health.level.value,
        "level_label": health.level_label,
        "factors": health.factors,
        "inputs": inputs,
    }


class OverdueActionItemSerializer(serializers.ModelSerializer):
    engagement = serializers.IntegerField(source="occurrence.engagement_id", read_only=True)

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "occurrence",
            "engagement",
            "description",
            "owner",
            "owner_name",
            "due_date",
        ]
        read_only_fields = fields
