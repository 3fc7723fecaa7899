"""The customer profile (service function `customer_intelligence`): API serializers."""

from __future__ import annotations

from engagements.intelligence import services
from engagements.intelligence.models import CustomerProfile
from portal.api.serializers import StrictModelSerializer
from portal.text import TEXT_MAX


class CustomerProfileSerializer(StrictModelSerializer):
    """The customer profile of an engagement (an empty one, `id` null, before the first edit).
    Every change is kept in its history."""

    class Meta:
        model = CustomerProfile
        fields = [
            "id",
            "engagement",
            "roadmap",
            "use_cases",
            "priorities",
            "key_dates",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = ["id", "engagement", "updated_by", "updated_at"]
        extra_kwargs = {
            name: {"required": False, "max_length": TEXT_MAX} for name in services.PROFILE_FIELDS
        }
