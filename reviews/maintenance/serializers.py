"""Maintenance windows (service function `maintenance_planning`): API serializers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.contracts.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from reviews.maintenance.models import MaintenanceWindow
from reviews.maintenance.selectors import maintenance_conflicts


class ConflictSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["after_hours", "holiday"])
    detail = serializers.CharField()


class MaintenanceWindowSerializer(StrictModelSerializer):
    """A maintenance window. `conflicts` says why it is flagged: it overlaps an approved
    after-hours request or a holiday of the engagement's calendar (empty when fine)."""

    engagement = ScopedRelatedField(model=Engagement)
    conflicts = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "engagement",
            "title",
            "starts_at",
            "ends_at",
            "systems_affected",
            "expected_impact",
            "status",
            "conflicts",
            "created_by",
            "created_at",
            "notice_sent_at",
        ]
        read_only_fields = ["id", "status", "created_by", "created_at", "notice_sent_at"]

    @extend_schema_field(ConflictSerializer(many=True))
    def get_conflicts(self, window: MaintenanceWindow) -> list[dict[str, str]]:
        return maintenance_conflicts(window)


class MaintenanceWindowUpdateSerializer(StrictModelSerializer):
    """Edit an open window, or move it along: planned → confirmed → done, or cancelled."""

    class Meta:
        model = MaintenanceWindow
        fields = ["title", "starts_at", "ends_at", "systems_affected", "expected_impact", "status"]
