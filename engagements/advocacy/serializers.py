"""The advocacy log (service function `customer_advocacy`): API serializers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.advocacy.models import AdvocacyItem
from engagements.contracts.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from portal.text import TEXT_MAX


class AdvocacyItemSerializer(StrictModelSerializer):
    """An item of the advocacy log. Named contacts and staff create it (`engagement`, `kind`,
    `title`, `description`); staff set `status`, `outcome` and `internal_reference`."""

    engagement = ScopedRelatedField(model=Engagement)

    class Meta:
        model = AdvocacyItem
        fields = [
            "id",
            "engagement",
            "kind",
            "title",
            "description",
            "raised_by",
            "status",
            "outcome",
            "internal_reference",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "raised_by", "created_at", "updated_at"]
        extra_kwargs = {
            "description": {"required": False, "max_length": TEXT_MAX},
            "outcome": {"required": False, "max_length": TEXT_MAX},
            "status": {"required": False},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("An item stays on its engagement."))
        return engagement
