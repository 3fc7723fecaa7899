"""/api/v1/audit-entries/: the audit trail for provider admins, as the /audit/ page shows it.

Audit entries span every tenant (plan changes belong to none), so the list is for provider
admins only; everyone else is refused with 403, as on the page.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from portal.accounts.models import User
from portal.api.permissions import IsProviderAdmin
from portal.api.views import PortalReadOnlyViewSet
from portal.audit import AuditEntry
from portal.filters import IdFilter


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.name", read_only=True, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "organization_id",
            "before",
            "after",
        ]
        read_only_fields = fields


class AuditEntryFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(queryset=User.objects.all())
    action = django_filters.CharFilter()
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    organization = IdFilter(field_name="organization_id")
    at_after = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "object_type", "object_id", "organization"]


@extend_schema(tags=["audit"])
class AuditEntryViewSet(PortalReadOnlyViewSet):
    """Who changed what, when, with the values before and after: plans and their entitlements
    and cadences, engagements, contacts, cases, tokens and every other audited change."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    permission_classes = [*PortalReadOnlyViewSet.permission_classes, IsProviderAdmin]

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return AuditEntry.objects.select_related("actor")
