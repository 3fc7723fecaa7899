"""Release management: announced changes and their acknowledgements: API serializers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from engagements.contracts.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from reviews.releases.models import ChangeAcknowledgement, ChangeItem


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
