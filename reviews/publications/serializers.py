"""Vendor news and roadmap announcements: API serializers."""

from __future__ import annotations

from rest_framework import serializers

from portal.api.serializers import StrictModelSerializer
from reviews.publications.models import Publication, PublicationReceipt


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
