"""The enablement (training) catalog: API viewsets."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import FunctionCode, require_any_entitlement
from portal.api.pagination import PortalCursorPagination
from portal.http import actor
from reviews.enablement import services
from reviews.enablement.models import TrainingResource
from reviews.enablement.serializers import TrainingResourceSerializer
from reviews.maintenance.api import ERRORS
from reviews.publications.api import ReadCreateViewSet


class TrainingPagination(PortalCursorPagination):
    ordering = ("title", "id")


@extend_schema(tags=["enablement"])
class TrainingResourceViewSet(ReadCreateViewSet):
    """The self-paced training catalog (customer enablement); admins `POST` new entries."""

    queryset = TrainingResource.objects.all()
    serializer_class = TrainingResourceSerializer
    pagination_class = TrainingPagination

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        require_any_entitlement(actor(request), FunctionCode.CUSTOMER_ENABLEMENT)

    @extend_schema(responses={201: TrainingResourceSerializer, **ERRORS})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = TrainingResourceSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        resource = services.training_resource_add(
            acting_user=actor(request), **serializer.validated_data
        )
        return self._respond(resource, status_code=status.HTTP_201_CREATED)
