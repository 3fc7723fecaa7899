"""The publications, training catalog and consulting requests API.

Publications and trainings are provider-wide: a customer lists the publications whose service
function is in one of their engagements' plans (another one answers 404 like a missing one) and
the catalog while one of their plans includes customer enablement (403 `not_entitled`
otherwise). Consulting requests are rows of engagements whose plan includes environment
consulting, gated like the other service functions. Writes go through
`reviews.services_publications`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import FunctionCode, require_any_entitlement
from portal.api.pagination import PortalCursorPagination
from portal.api.views import PortalReadCreateViewSet
from portal.http import actor
from reviews import services_publications as services
from reviews.api.serializers_publications import (
    ConsultingRequestSerializer,
    ConsultingScheduleSerializer,
    PublicationSerializer,
    TrainingResourceSerializer,
)
from reviews.api.views_functions import ERRORS, FunctionViewSet
from reviews.filters_publications import ConsultingRequestFilter, PublicationFilter
from reviews.models import (
    ConsultingRequest,
    Publication,
    TrainingResource,
)
from reviews.selectors_publications import (
    visible_publications,
    visible_receipts,
)


class PublicationPagination(PortalCursorPagination):
    ordering = ("-published_at", "-id")


class TrainingPagination(PortalCursorPagination):
    ordering = ("title", "id")


class CreatedPagination(PortalCursorPagination):
    ordering = ("-created_at", "-id")


class ReadCreateViewSet(PortalReadCreateViewSet):
    lookup_value_regex = "[0-9]+"

    def _respond(self, row: Any, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=row.pk)
        assert self.serializer_class is not None  # every viewset here declares one
        return Response(
            self.serializer_class(fresh, context=self.get_serializer_context()).data,
            status=status_code,
        )


@extend_schema(tags=["publications"])
class PublicationViewSet(ReadCreateViewSet):
    """Vendor news and roadmap announcements the actor may read, newest first.

    Admins `POST` either kind, managers news. A customer `read`s one to leave a read receipt
    (idempotent); `receipts` shows staff who of the entitled engagements' people read it."""

    queryset = Publication.objects.all()
    serializer_class = PublicationSerializer
    filterset_class = PublicationFilter
    pagination_class = PublicationPagination

    def get_queryset(self) -> QuerySet[Publication]:
        user = actor(self.request)
        return visible_publications(user).prefetch_related(
            Prefetch("receipts", queryset=visible_receipts(user), to_attr="visible_receipts")
        )

    @extend_schema(responses={201: PublicationSerializer, **ERRORS})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = PublicationSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        publication = services.publication_publish(
            acting_user=actor(request), **serializer.validated_data
        )
        return self._respond(publication, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PublicationSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """The requesting customer has read it; again changes nothing."""
        publication = self.get_object()
        services.publication_mark_read(acting_user=actor(request), publication=publication)
        return self._respond(publication)


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
