"""Environment consulting requests: API serializers."""

from __future__ import annotations

from rest_framework import serializers

from engagements.contracts.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer, StrictSerializer
from reviews.consulting.models import ConsultingRequest
from reviews.scheduling.serializers import MethodField


class ConsultingRequestSerializer(StrictModelSerializer):
    """An environment consulting request; `session` is the occurrence once scheduled."""

    engagement = ScopedRelatedField(model=Engagement)

    class Meta:
        model = ConsultingRequest
        fields = [
            "id",
            "engagement",
            "topic",
            "environment_details",
            "desired_dates",
            "status",
            "requested_by",
            "session",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "requested_by",
            "session",
            "created_at",
            "updated_at",
        ]


class ConsultingScheduleSerializer(StrictSerializer):
    """When and how: `method` is in_person, video or phone (the service refuses others)."""

    starts_at = serializers.DateTimeField()
    method = MethodField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=8 * 60, default=60)
