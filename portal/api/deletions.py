"""/api/v1/deletions/: tombstones of deleted objects, for integrations that sync.

A sync loop reads each resource with `?updated_after=<last sync>` and this list with the same
`updated_after`, and removes the objects named here. Each actor sees the tombstones of what
they could see (portal.deletions.DeletionManager).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalViewSetMixin
from portal.deletions import Deletion

TYPES = ("absence", "contact", "time-entry", "training-resource")


class DeletionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deletion
        fields = ["id", "type", "object_id", "organization_id", "engagement_id", "deleted_at"]
        read_only_fields = fields


class DeletionFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=[(name, name) for name in TYPES])

    class Meta:
        model = Deletion
        fields = ["type"]


class DeletionPagination(KeysetCursorPagination):
    ordering = ("deleted_at", "id")


@extend_schema(tags=["sync"])
class DeletionViewSet(PortalViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Objects deleted (or, for contacts, removed from their engagement), oldest first: the
    `type` is the resource (`time-entry` for /api/v1/time-entries/) and `object_id` its id."""

    queryset = Deletion.objects.all()
    serializer_class = DeletionSerializer
    filterset_class = DeletionFilter
    pagination_class = DeletionPagination
