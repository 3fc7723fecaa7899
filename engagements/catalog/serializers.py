"""The service catalog (plans, service functions, the entitlement matrix, cadences): API
serializers.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.catalog.models import Cadence, Frequency, Method, Plan, ServiceFunction
from portal.api.serializers import (
    StrictModelSerializer,
    refuse_changes_of,
)


class ServiceFunctionSerializer(StrictModelSerializer):
    """A service function; the code is fixed once created, name and description are editable
    in English (`name`, `description`) and Korean (`name_ko`, `description_ko`: blank means
    the English is shown)."""

    class Meta:
        model = ServiceFunction
        fields = ["id", "code", "name", "name_ko", "description", "description_ko"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        refuse_changes_of(self, attrs, "code")
        return attrs


class CadenceSerializer(serializers.ModelSerializer):
    deliverable: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    methods = serializers.ListField(child=serializers.ChoiceField(choices=Method.choices))
    frequency = serializers.ChoiceField(choices=Frequency.choices)

    class Meta:
        model = Cadence
        fields = ["deliverable", "methods", "frequency"]
        read_only_fields = fields


class PlanSerializer(StrictModelSerializer):
    """A plan (tier) with its included function codes and delivery cadences; `name` in English,
    `name_ko` in Korean (blank: the English is shown).

    The matrix and the cadences are read here; they are edited as a whole elsewhere.
    """

    response_target_business_days = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.25"),
        max_value=Decimal(30),
        coerce_to_string=False,
        required=False,
    )
    weekly_hours_cap = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), coerce_to_string=False, required=False
    )
    entitlements = serializers.SerializerMethodField()
    cadences = CadenceSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "code",
            "name",
            "name_ko",
            "deployment",
            "pricing",
            "response_target_business_days",
            "max_contacts",
            "weekly_hours_cap",
            "max_open_cases_per_manager",
            "weekly_call",
            "entitlements",
            "cadences",
        ]
        read_only_fields = ["id"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_entitlements(self, plan: Plan) -> list[str]:
        # Prefetched in function order by the view.
        return [entitlement.function.code for entitlement in plan.entitlements.all()]

    def validate(self, attrs: dict) -> dict:
        refuse_changes_of(self, attrs, "code")
        return attrs
