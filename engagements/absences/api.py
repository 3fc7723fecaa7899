"""Absences of service managers and who is responsible meanwhile: API viewsets."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from engagements.absences import services
from engagements.absences.filters import AbsenceFilter
from engagements.absences.models import Absence
from engagements.absences.serializers import AbsenceSerializer, CustomerAbsenceSerializer
from engagements.catalog.api import DEFAULT_PERMISSIONS, cursor_by
from engagements.contracts.models import Engagement
from portal.api.views import (
    PortalReadCreateDeleteViewSet,
)
from portal.http import actor


class StaffWritesOthersRead(permissions.BasePermission):
    """Everyone signed in reads what their scope shows; only provider staff write.
    Which staff may write what is checked by the view and the service."""

    message = _("Only provider staff may change this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_authenticated and request.user.is_provider_staff)


@extend_schema(tags=["absences"])
class AbsenceViewSet(PortalReadCreateDeleteViewSet):
    """Managers' absences. Provider staff see all (they cover for each other) and record or
    remove their own (admins anyone's); customers see, without the note, the absences of the
    managers and deputies of their engagements."""

    queryset = Absence.objects.all()
    serializer_class = AbsenceSerializer
    filterset_class = AbsenceFilter
    permission_classes = [*DEFAULT_PERMISSIONS, StaffWritesOthersRead]
    pagination_class = cursor_by("-starts_at", "-id")

    def _is_customer(self) -> bool:
        user = self.request.user
        return bool(user.is_authenticated and user.is_customer)

    def get_queryset(self) -> QuerySet[Absence]:
        if not self._is_customer():
            return Absence.objects.all()
        # Engagement's manager is scoped: these are the engagements the customer may see.
        serving = Q(manager__in=Engagement.objects.values("manager")) | Q(
            manager__in=Engagement.objects.filter(deputy__isnull=False).values("deputy")
        )
        return Absence.objects.filter(serving)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if getattr(self, "swagger_fake_view", False) or not self._is_customer():
            return AbsenceSerializer
        return CustomerAbsenceSerializer

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        manager = data.get("manager") or actor(request)
        if manager != actor(request) and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only record your own absences."))
        absence = services.absence_record(
            acting_user=actor(request),
            manager=manager,
            kind=data["kind"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            note=data.get("note", ""),
        )
        return Response(self.get_serializer(absence).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        absence = self.get_object()
        if absence.manager_id != actor(request).pk and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only remove your own absences."))
        services.absence_delete(acting_user=actor(request), absence=absence)
        return Response(status=status.HTTP_204_NO_CONTENT)
