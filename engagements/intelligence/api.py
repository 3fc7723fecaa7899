"""The customer profile (service function `customer_intelligence`): API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.contracts.models import Engagement
from engagements.entitlements import EntitledViewSetMixin, FunctionCode, require_entitlement
from engagements.intelligence import services
from engagements.intelligence.filters import CustomerProfileFilter
from engagements.intelligence.models import CustomerProfile
from engagements.intelligence.serializers import CustomerProfileSerializer
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalReadUpdateViewSet
from portal.http import actor


class CustomerProfilePagination(KeysetCursorPagination):
    ordering = ("engagement_id", "id")


@extend_schema(tags=["customer profiles"])
class CustomerProfileViewSet(EntitledViewSetMixin, PortalReadUpdateViewSet):
    """Customer profiles by engagement id: `/customer-profiles/<engagement>/` reads one (empty
    before the first edit); the engagement's staff and named contacts change it (PATCH/PUT)."""

    function_code = FunctionCode.CUSTOMER_INTELLIGENCE
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = CustomerProfile.objects.all()
    serializer_class = CustomerProfileSerializer
    filterset_class = CustomerProfileFilter
    pagination_class = CustomerProfilePagination
    lookup_field = "engagement"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[CustomerProfile]:
        return CustomerProfile.objects.all()

    def _engagement(self) -> Engagement:
        engagement = get_object_or_404(
            Engagement.objects.select_related("plan"), pk=int(self.kwargs["engagement"])
        )
        require_entitlement(engagement, self.function_code)
        return engagement

    def get_object(self) -> CustomerProfile:
        return services.customer_profile_of(self._engagement())

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        engagement = self._engagement()
        serializer = self.get_serializer(
            services.customer_profile_of(engagement), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        profile = services.customer_profile_update(
            acting_user=actor(request), engagement=engagement, **serializer.validated_data
        )
        return Response(self.get_serializer(profile).data)
