"""Saved views of the case list: the API. Each user sees and changes only their own views;
another user's view answers 404 like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from cases.savedviews import services
from cases.savedviews.models import SavedView
from cases.savedviews.selectors import saved_views_of
from cases.savedviews.serializers import SavedViewSerializer, SavedViewUpdateSerializer
from portal.api.pagination import PortalCursorPagination
from portal.api.views import PortalModelViewSet
from portal.http import actor


class SavedViewPagination(PortalCursorPagination):
    ordering = "id"


@extend_schema(tags=["cases"])
class SavedViewViewSet(PortalModelViewSet):
    """The signed-in user's saved views of the case list (at most 50, names unique per user).
    `query` holds the list's filters and sort; open `url` to see the view."""

    queryset = SavedView.objects.all()
    serializer_class = SavedViewSerializer
    pagination_class = SavedViewPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[SavedView]:
        if getattr(self, "swagger_fake_view", False):
            return SavedView.objects.none()
        return saved_views_of(actor(self.request))

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        view = services.saved_view_create(
            acting_user=actor(request),
            name=data["name"],
            query=data.get("query", ""),
            is_default=data.get("is_default", False),
        )
        return Response(self.get_serializer(view).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SavedViewUpdateSerializer, responses={200: SavedViewSerializer})
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Rename the view (`name`) or make it the list's default (`is_default`)."""
        view = self.get_object()
        serializer = SavedViewUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "name" in data:
            view = services.saved_view_rename(
                acting_user=actor(request), view=view, name=data["name"]
            )
        if "is_default" in data:
            view = services.saved_view_set_default(
                acting_user=actor(request), view=view, is_default=data["is_default"]
            )
        return Response(self.get_serializer(view).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.saved_view_delete(acting_user=actor(request), view=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
