"""After-hours support requests: API serializers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import Engagement
from portal.api.serializers import (
    MULTILINE,
    ScopedRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)


class AfterHoursRequestSerializer(StrictModelSerializer):
    engagement = ScopedRelatedField(model=Engagement)

    class Meta:
        model = AfterHoursRequest
        fields = [
            "id",
            "engagement",
            "requested_by",
            "starts_at",
            "ends_at",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "requested_by",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


class AfterHoursApproveSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", style=MULTILINE
    )


class AfterHoursDeclineSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=2000, help_text=_("Why the request is declined (required)."), style=MULTILINE
    )
