"""Environment consulting requests: API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import FunctionCode
from portal.api.pagination import PortalCursorPagination
from portal.http import actor
from reviews.consulting import services
from reviews.consulting.filters import ConsultingRequestFilter
from reviews.consulting.models import ConsultingRequest
from reviews.consulting.serializers import ConsultingRequestSerializer, ConsultingScheduleSerializer
from reviews.maintenance.api import ERRORS, FunctionViewSet


class CreatedPagination(PortalCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(tags=["environment consulting"])
class ConsultingRequestViewSet(FunctionViewSet):
    """Environment consulting requests (Premium) of the engagements the actor may see, newest
    first. Named contacts `POST` one; the engagement's staff `schedule` it as a session."""

    function_code = FunctionCode.ENVIRONMENT_CONSULTING
    http_method_names = ["get", "post", "head", "options"]
    queryset = ConsultingRequest.objects.all()
    serializer_class = ConsultingRequestSerializer
    filterset_class = ConsultingRequestFilter
    pagination_class = CreatedPagination

    def get_queryset(self) -> QuerySet[ConsultingRequest]:
        return ConsultingRequest.objects.select_related("engagement__plan")

    @extend_schema(responses={201: ConsultingRequestSerializer, **ERRORS})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = self._input(ConsultingRequestSerializer, request)
        row = services.consulting_request(acting_user=actor(request), **data)
        return self._respond(row, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ConsultingScheduleSerializer,
        responses={200: ConsultingRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        """The engagement's staff schedule the session (in person, video or phone)."""
        row = self.get_object()
        data = self._input(ConsultingScheduleSerializer, request)
        row = services.consulting_schedule(acting_user=actor(request), request=row, **data)
        return self._respond(row)
