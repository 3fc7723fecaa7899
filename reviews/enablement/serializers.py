"""The enablement (training) catalog: API serializers."""

from __future__ import annotations

from portal.api.serializers import StrictModelSerializer
from reviews.enablement.models import TrainingResource


class TrainingResourceSerializer(StrictModelSerializer):
    class Meta:
        model = TrainingResource
        fields = ["id", "title", "url", "description", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
