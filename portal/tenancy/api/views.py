from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.permissions import AdminWritesOthersRead
from portal.api.serializers import StrictModelSerializer
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor
from portal.tenancy import services
from portal.tenancy.filters import OrganizationFilter
from portal.tenancy.models import Organization


class OrganizationSerializer(StrictModelSerializer):
    slug = serializers.SlugField(max_length=60, required=False)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]


@extend_schema(tags=["organizations"])
class OrganizationViewSet(PortalCreateReadUpdateViewSet):
    """Customer organizations (tenants). Admins provision them; others read their own."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    permission_classes = [*PortalCreateReadUpdateViewSet.permission_classes, AdminWritesOthersRead]
    ordering = "name"

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(
            acting_user=actor(request),
            name=serializer.validated_data["name"],
            slug=serializer.validated_data.get("slug"),
        )
        return Response(self.get_serializer(organization).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        organization = self.get_object()
        serializer = self.get_serializer(
            organization, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        organization = services.organization_update(
            acting_user=actor(request), organization=organization, **serializer.validated_data
        )
        return Response(self.get_serializer(organization).data)
