"""Upgrade plans and their milestones (service function `upgrade_planning`): API serializers."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.contracts.models import Engagement
from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
from portal.accounts.models import User
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from portal.text import TEXT_MAX


class MilestoneOwnerField(serializers.PrimaryKeyRelatedField):
    """Active provider staff or an active person of the plan's organization (the serializer's
    `engagement` context); anyone else fails exactly like an id that does not exist."""

    def get_queryset(self) -> QuerySet[User]:
        engagement = self.context.get("engagement")
        if engagement is None:
            return User.objects.none()
        staff = Q(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER])
        people = Q(
            memberships__organization_id=engagement.organization_id,
            memberships__is_active=True,
        )
        return User.objects.filter(staff | people, is_active=True).distinct()


class UpgradeMilestoneSerializer(StrictModelSerializer):
    owner = MilestoneOwnerField(required=False, allow_null=True)

    class Meta:
        model = UpgradeMilestone
        fields = ["id", "title", "due_date", "owner", "owner_name", "done", "done_at"]
        read_only_fields = ["id", "done", "done_at"]
        extra_kwargs = {"owner_name": {"required": False}}


class UpgradePlanSerializer(StrictModelSerializer):
    """An upgrade plan with its milestones (read; add one with POST .../milestones/)."""

    engagement = ScopedRelatedField(model=Engagement)
    milestones = UpgradeMilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = UpgradePlan
        fields = [
            "id",
            "engagement",
            "current_version",
            "target_version",
            "status",
            "notes",
            "milestones",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "milestones", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "notes": {"required": False, "max_length": TEXT_MAX},
            "status": {"required": False},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("A plan stays on its engagement."))
        return engagement
