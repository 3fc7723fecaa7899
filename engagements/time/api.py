"""Time entries and the weekly hours budget: API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.absences.api import StaffWritesOthersRead
from engagements.catalog.api import DEFAULT_PERMISSIONS, cursor_by
from engagements.time import services
from engagements.time.filters import TimeEntryFilter
from engagements.time.models import TimeEntry
from engagements.time.serializers import TimeEntrySerializer
from portal.api.views import (
    PortalReadCreateDeleteViewSet,
)
from portal.http import actor


@extend_schema(tags=["time entries"])
class TimeEntryViewSet(PortalReadCreateDeleteViewSet):
    """Manager time per engagement. Customers read the time on their engagements; managers log
    and remove their own on engagements they serve; admins log for any manager."""

    queryset = TimeEntry.objects.all()
    serializer_class = TimeEntrySerializer
    filterset_class = TimeEntryFilter
    permission_classes = [*DEFAULT_PERMISSIONS, StaffWritesOthersRead]
    pagination_class = cursor_by("-date", "-id")

    def get_queryset(self) -> QuerySet[TimeEntry]:
        return TimeEntry.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        engagement = data["engagement"]
        user = actor(request)
        manager = data.get("manager") or user
        if not user.is_provider_admin:
            if manager != user:
                raise PermissionDenied(_("You can only log your own time."))
            if user.pk not in (engagement.manager_id, engagement.deputy_id):
                raise PermissionDenied(
                    _("Only the engagement's manager or deputy can log time on it.")
                )
        entry = services.time_entry_log(
            acting_user=user,
            engagement=engagement,
            day=data["date"],
            minutes=data["minutes"],
            activity=data["activity"],
            note=data.get("note", ""),
            manager=manager,
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        entry = self.get_object()
        if entry.manager_id != actor(request).pk and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only remove your own time entries."))
        services.time_entry_delete(acting_user=actor(request), entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)
