"""After-hours support requests: API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.afterhours import services
from engagements.afterhours.filters import AfterHoursRequestFilter
from engagements.afterhours.models import AfterHoursRequest
from engagements.afterhours.serializers import (
    AfterHoursApproveSerializer,
    AfterHoursDeclineSerializer,
    AfterHoursRequestSerializer,
)
from engagements.catalog.api import cursor_by
from engagements.contacts.selectors import is_active_contact
from engagements.selectors import serves
from portal.api.views import (
    PortalReadCreateViewSet,
)
from portal.http import actor


@extend_schema(tags=["after-hours requests"])
class AfterHoursRequestViewSet(PortalReadCreateViewSet):
    """Requests for weekend and holiday support. Named contacts file them at least 2 business
    days ahead; the engagement's manager, its deputy or an admin approves or declines."""

    queryset = AfterHoursRequest.objects.all()
    serializer_class = AfterHoursRequestSerializer
    filterset_class = AfterHoursRequestFilter
    pagination_class = cursor_by("-starts_at", "-id")

    def get_queryset(self) -> QuerySet[AfterHoursRequest]:
        return AfterHoursRequest.objects.all()

    @extend_schema(
        responses={
            201: AfterHoursRequestSerializer,
            400: OpenApiResponse(description="validation_error"),
            403: OpenApiResponse(description="permission_denied"),
            409: OpenApiResponse(
                description="engagement_not_active (the engagement's term has ended or not begun)"
            ),
        }
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not is_active_contact(data["engagement"], actor(request)):
            raise PermissionDenied(
                _("Only the engagement's named contacts can request after-hours support.")
            )
        created = services.after_hours_request(
            acting_user=actor(request),
            engagement=data["engagement"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        # Fetch first: another tenant's request answers 404 before anything is checked.
        pending = self.get_object()
        engagement = pending.engagement
        user = actor(request)
        if not serves(user, engagement):
            raise PermissionDenied(_("Only the engagement's manager or deputy can decide."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.after_hours_decide(
            acting_user=user,
            request=pending,
            approve=approve,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(
            AfterHoursRequestSerializer(decided, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request=AfterHoursApproveSerializer,
        responses={
            200: AfterHoursRequestSerializer,
            409: OpenApiResponse(description="conflict: the request was already decided"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AfterHoursApproveSerializer,
        filter_backends=[],
    )
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a pending request: its window counts as business time."""
        return self._decide(request, approve=True)

    @extend_schema(
        request=AfterHoursDeclineSerializer,
        responses={
            200: AfterHoursRequestSerializer,
            409: OpenApiResponse(description="conflict: the request was already decided"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AfterHoursDeclineSerializer,
        filter_backends=[],
    )
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline a pending request, saying why."""
        return self._decide(request, approve=False)
