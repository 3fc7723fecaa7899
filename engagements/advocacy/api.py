"""The advocacy log (service function `customer_advocacy`): API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.advocacy import services
from engagements.advocacy.filters import AdvocacyItemFilter
from engagements.advocacy.models import AdvocacyItem
from engagements.advocacy.serializers import AdvocacyItemSerializer
from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor


class AdvocacyItemPagination(KeysetCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(tags=["advocacy items"])
class AdvocacyItemViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """The advocacy logs of the engagements the actor may see (plans with customer_advocacy),
    newest first. Named contacts and staff add items; staff set status and outcome; the contact
    who raised an item may reword it while it is open."""

    function_code = FunctionCode.CUSTOMER_ADVOCACY
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = AdvocacyItem.objects.all()
    serializer_class = AdvocacyItemSerializer
    filterset_class = AdvocacyItemFilter
    pagination_class = AdvocacyItemPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[AdvocacyItem]:
        return AdvocacyItem.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        for name in services.ADVOCACY_STAFF_FIELDS:
            if name in data:
                raise serializers.ValidationError(
                    {name: [_("Set it with PATCH once the item exists.")]}
                )
        item = services.advocacy_item_create(acting_user=actor(request), **data)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("engagement", None)
        item = services.advocacy_item_update(acting_user=actor(request), item=item, **changes)
        return Response(self.get_serializer(item).data)
