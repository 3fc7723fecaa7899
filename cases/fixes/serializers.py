"""Fix requests, software performance reports (service function `software_performance_report`): API
serializers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.casework.models import Case
from cases.fixes.models import FixRequest
from engagements.contracts.models import Engagement
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer, StrictSerializer
from portal.text import TEXT_MAX


def _scoped_cases(request: Any) -> QuerySet[Case]:
    return Case.objects.all()


class FixRequestSerializer(StrictModelSerializer):
    """A fix the customer asks for. On creation: `engagement`, `title`, `description`, `case`
    (of the same engagement) and optionally `customer_rank` (default: last)."""

    engagement = ScopedRelatedField(model=Engagement)
    case = ScopedRelatedField(model=Case, choices=_scoped_cases, required=False, allow_null=True)
    customer_rank = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=_("1 is the most important; reorder with POST /fix-requests/rank/."),
    )

    class Meta:
        model = FixRequest
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "case",
            "customer_rank",
            "vendor_status",
            "target_release",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "vendor_status",
            "target_release",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"required": False, "max_length": TEXT_MAX}}
        # Ranks are unique among open requests: the service re-numbers instead of refusing.
        validators: list = []


class FixRequestVendorSerializer(StrictSerializer):
    """What provider staff change on a fix request."""

    vendor_status = serializers.ChoiceField(choices=FixRequest.VendorStatus.choices)
    target_release = serializers.CharField(required=False, allow_blank=True, max_length=100)


class FixRankSerializer(StrictSerializer):
    engagement = ScopedRelatedField(model=Engagement)
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=1000,
        help_text=_("Every open fix request id of the engagement, most important first."),
    )
