"""The risk register (service function `risk_mitigation`): API serializers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.risks.models import Risk
from engagements.contracts.models import Engagement
from engagements.contracts.serializers import ProviderStaffField
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from portal.text import TEXT_MAX


class RiskSerializer(StrictModelSerializer):
    """A risk of an engagement's register; `score` is likelihood × impact. The owner is
    provider staff (default: the engagement's manager). The engagement is set on creation."""

    engagement = ScopedRelatedField(model=Engagement)
    owner = ProviderStaffField(required=False, allow_null=True)

    class Meta:
        model = Risk
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "likelihood",
            "impact",
            "score",
            "mitigation_plan",
            "owner",
            "status",
            "next_review_date",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "score", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "description": {"required": False, "max_length": TEXT_MAX},
            "mitigation_plan": {"required": False, "max_length": TEXT_MAX},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("A risk stays on its engagement."))
        return engagement
