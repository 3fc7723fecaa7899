"""Serializers of the maintenance windows and changes (release management) API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from reviews.models import ChangeAcknowledgement, ChangeItem, MaintenanceWindow
from reviews.selectors_functions import maintenance_conflicts


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


class AcknowledgementSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = ChangeAcknowledgement
        fields = ["user", "name", "acknowledged_at"]
        read_only_fields = fields

    def get_name(self, row: ChangeAcknowledgement) -> str:
        return row.user.name or row.user.email


class ChangeItemSerializer(StrictModelSerializer):
    """A platform, software or architecture change; `acknowledgements` lists who of the named
    contacts acknowledged it, `acknowledged_by_me` whether the requesting user did."""

    engagement = ScopedRelatedField(model=Engagement)
    acknowledgements = AcknowledgementSerializer(many=True, read_only=True)
    acknowledged_by_me = serializers.SerializerMethodField()

    class Meta:
        model = ChangeItem
        fields = [
            "id",
            "engagement",
            "title",
            "kind",
            "scheduled_at",
            "impact",
            "rollback_plan",
            "status",
            "acknowledgements",
            "acknowledged_by_me",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "status", "created_by", "created_at"]

    def get_acknowledged_by_me(self, change: ChangeItem) -> bool:
        request: Any = self.context.get("request")
        user_id = getattr(getattr(request, "user", None), "pk", None)
        return any(row.user_id == user_id for row in change.acknowledgements.all())


class ChangeItemUpdateSerializer(StrictModelSerializer):
    """Edit an open change, or move it along: planned ⇄ scheduled → done → rolled back, or
    cancelled."""

    class Meta:
        model = ChangeItem
        fields = ["title", "kind", "scheduled_at", "impact", "rollback_plan", "status"]
