"""/api/v1/audit-entries/: the audit trail for provider admins, as the /audit/ page shows it.

Audit entries span every tenant (plan changes belong to none), so the list is for provider
admins only; everyone else is refused with 403, as on the page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from portal.api.permissions import IsProviderAdmin
from portal.api.views import PortalReadOnlyViewSet
from portal.audit import AuditEntry
from portal.audit_filters import AuditEntryFilter
from portal.audit_words import Described, describe


class AuditEntryListSerializer(serializers.ListSerializer):
    """Renders a page of entries in words at once: one query per kind of object they name."""

    def to_representation(self, data: Any) -> list[Any]:
        entries = list(data.all() if isinstance(data, QuerySet) else data)
        assert self.child is not None  # always given: AuditEntrySerializer(many=True)
        self.child.context["described"] = {item.entry.pk: item for item in describe(entries)}
        return [self.child.to_representation(entry) for entry in entries]


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.name", read_only=True, allow_null=True)
    summary = serializers.SerializerMethodField(
        help_text=_("The change in words, in the request's language.")
    )
    kind = serializers.SerializerMethodField(
        help_text=_("configuration, work or personal (a preference of one's own).")
    )

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
            "object_repr",
            "organization_id",
            "before",
            "after",
            "summary",
            "kind",
        ]
        read_only_fields = fields
        list_serializer_class = AuditEntryListSerializer

    def _described(self, entry: AuditEntry) -> Described:
        found = self.context.get("described", {}).get(entry.pk)
        return found if found is not None else describe([entry])[0]

    def get_summary(self, entry: AuditEntry) -> str:
        return self._described(entry).summary

    def get_kind(self, entry: AuditEntry) -> str:
        return self._described(entry).kind


@extend_schema(tags=["audit"])
class AuditEntryViewSet(PortalReadOnlyViewSet):
    """Who changed what, when, with the values before and after: plans and their entitlements
    and cadences, engagements, contacts, cases, tokens and every other audited change."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilter
    permission_classes = [*PortalReadOnlyViewSet.permission_classes, IsProviderAdmin]

    def get_queryset(self) -> QuerySet[AuditEntry]:
        return AuditEntry.objects.select_related("actor")
