"""Vendor news and roadmap announcements: API viewsets."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.pagination import PortalCursorPagination
from portal.api.views import PortalReadCreateViewSet
from portal.http import actor
from reviews.maintenance.api import ERRORS
from reviews.publications import services
from reviews.publications.filters import PublicationFilter
from reviews.publications.models import Publication
from reviews.publications.selectors import visible_publications, visible_receipts
from reviews.publications.serializers import PublicationSerializer


class PublicationPagination(PortalCursorPagination):
    ordering = ("-published_at", "-id")


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
