"""Engagements, the contracts between the vendor and a customer organization: API serializers."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.catalog.models import Plan
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.api.serializers import (
    ScopedRelatedField,
    StrictModelSerializer,
)
from portal.tenancy.models import Organization


class ProviderStaffField(serializers.PrimaryKeyRelatedField):
    """An active provider admin or service manager, by id; anyone else fails as a missing id."""

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER], is_active=True)


class ContactCandidateField(serializers.PrimaryKeyRelatedField):
    """An active person of the engagement's organization (the serializer's `engagement`
    context); another organization's user fails exactly like an id that does not exist."""

    def get_queryset(self) -> QuerySet[User]:
        engagement = self.context.get("engagement")
        if engagement is None:
            return User.objects.none()
        return User.objects.filter(
            is_active=True,
            memberships__organization_id=engagement.organization_id,
            memberships__is_active=True,
        )


class EngagementSerializer(StrictModelSerializer):
    """An engagement (contract). `status` follows from its term and today in its zone."""

    organization = ScopedRelatedField(model=Organization)
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    manager = ProviderStaffField()
    deputy = ProviderStaffField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Engagement.Status.choices, read_only=True)
    response_target_business_days = serializers.DecimalField(
        source="plan.response_target_business_days",
        max_digits=4,
        decimal_places=2,
        coerce_to_string=False,
        read_only=True,
    )

    class Meta:
        model = Engagement
        fields = [
            "id",
            "organization",
            "plan",
            "name",
            "manager",
            "deputy",
            "timezone",
            "holiday_country",
            "language",
            "start_date",
            "end_date",
            "business_hours",
            "status",
            "response_target_business_days",
        ]
        read_only_fields = ["id"]
        # No default zone or calendar for a new engagement (UTC and no holidays would count the
        # customer's public holidays as business time); a partial update may leave them out.
        extra_kwargs = {
            "timezone": {"required": True},
            "holiday_country": {"required": True, "allow_blank": False},
        }

    def validate(self, attrs: dict) -> dict:
        instance = self.instance
        if instance is not None and attrs.get("organization", instance.organization) != (
            instance.organization
        ):
            raise serializers.ValidationError(
                {"organization": [_("An engagement cannot move to another organization.")]}
            )
        return attrs
