"""/api/v1/webhooks/: a user's subscriptions, their deliveries, ping and redeliver."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.serializers import StrictModelSerializer
from portal.api.views import PortalModelViewSet
from portal.http import actor
from portal.pages import get_scoped_or_404
from portal.webhooks import services
from portal.webhooks.events import EVENTS
from portal.webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookSerializer(StrictModelSerializer):
    """A subscription: `events` from the list in README ("Integrations"); `url` http(s) of a
    public address. The `secret` that signs deliveries is returned once, on creation."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENTS)), allow_empty=False, max_length=50
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "description",
            "active",
            "failing_since",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "failing_since", "disabled_reason", "created_at", "updated_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown only in this response.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "response_code",
            "duration_ms",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "last_error",
        ]
        read_only_fields = fields


@extend_schema(tags=["webhooks"])
class WebhookViewSet(PortalModelViewSet):
    """The signed-in user's (or token owner's) webhook subscriptions; nobody else's are
    visible. Deliveries are POSTs of `{"id", "event", "occurred_at", "data"}` signed with
    `X-Portal-Signature: sha256=<HMAC-SHA256 of the body with the secret>`."""

    queryset = WebhookSubscription.objects.all()
    serializer_class = WebhookSerializer
    filterset_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return WebhookSubscription.objects.filter(owner=actor(self.request))

    @extend_schema(responses={201: WebhookCreatedSerializer})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription, secret = services.webhook_create(
            acting_user=actor(request),
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
        )
        body = WebhookCreatedSerializer(subscription).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        subscription = self.get_object()
        serializer = self.get_serializer(
            subscription, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_update(
            acting_user=actor(request), subscription=subscription, **serializer.validated_data
        )
        return Response(self.get_serializer(subscription).data)

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        services.webhook_delete(acting_user=actor(self.request), subscription=instance)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def ping(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.webhook_ping(acting_user=actor(request), subscription=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[], serializer_class=DeliverySerializer)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        page = self.paginate_queryset(WebhookDelivery.objects.filter(subscription=subscription))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={202: DeliverySerializer, 409: OpenApiResponse(description="still pending")},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_pk>[0-9]+)/redeliver",
        filter_backends=[],
    )
    def redeliver(self, request: Request, pk: str | None = None, delivery_pk: str = "") -> Response:
        subscription = self.get_object()
        delivery = get_scoped_or_404(WebhookDelivery, pk=delivery_pk, subscription=subscription)
        delivery = services.delivery_redeliver(acting_user=actor(request), delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
