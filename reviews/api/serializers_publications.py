"""Serializers of the publications, training catalog and consulting requests API."""

from __future__ import annotations

from rest_framework import serializers

from engagements.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer, StrictSerializer
from reviews.api.serializers import MethodField
from reviews.models import ConsultingRequest, Publication, PublicationReceipt, TrainingResource


class ReceiptSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = PublicationReceipt
        fields = ["user", "name", "read_at"]
        read_only_fields = fields

    def get_name(self, row: PublicationReceipt) -> str:
        return row.user.name or row.user.email


class PublicationSerializer(StrictModelSerializer):
    """Vendor news or a roadmap announcement. `audience` is the service function whose
    engagements see it; `read` whether the requesting user opened it; `receipts` who read it
    (staff: the people of entitled engagements they may see; a customer: only their own)."""

    read = serializers.SerializerMethodField()
    receipts = ReceiptSerializer(source="visible_receipts", many=True, read_only=True)

    class Meta:
        model = Publication
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "major",
            "audience",
            "published_at",
            "published_by",
            "read",
            "receipts",
        ]
        read_only_fields = ["id", "audience", "published_at", "published_by"]

    def get_read(self, publication: Publication) -> bool:
        return bool(getattr(publication, "read", False))


class TrainingResourceSerializer(StrictModelSerializer):
    class Meta:
        model = TrainingResource
        fields = ["id", "title", "url", "description", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


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
