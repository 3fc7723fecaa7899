"""/api/v1/me/notification-preferences/: the caller's own notification preferences. GET lists
every kind that may reach them with its channels; PATCH changes some (400 naming an unknown
kind or channel, a mandatory kind, or e-mail each time together with the digest)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api.serializers import StrictSerializer
from portal.api.views import PortalAPIView
from portal.http import actor
from portal.notification_preferences.selectors import preferences_of
from portal.notification_preferences.services import notification_preferences_set


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    # a field named `label`: the stub types Field.label (this serializer's own) as a string
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The kind in words, in the request's language."
    )
    mandatory = serializers.BooleanField(help_text="Always in the portal and by e-mail at once.")
    in_app = serializers.BooleanField()
    email = serializers.BooleanField(help_text="An e-mail each time.")
    digest = serializers.BooleanField(help_text="In the daily digest e-mail instead.")


class PreferencesSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


class PreferenceChangeSerializer(StrictSerializer):
    kind = serializers.CharField(max_length=60)
    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    digest = serializers.BooleanField(required=False)


class PreferencesChangeSerializer(StrictSerializer):
    preferences = PreferenceChangeSerializer(many=True)


class NotificationPreferencesView(PortalAPIView):
    """The caller's own notification preferences (owner only: there is no one else's)."""

    @extend_schema(tags=["notifications"], responses={200: PreferencesSerializer})
    def get(self, request: Request) -> Response:
        return Response({"preferences": preferences_of(actor(request))})

    @extend_schema(
        tags=["notifications"],
        request=PreferencesChangeSerializer,
        responses={200: PreferencesSerializer},
    )
    def patch(self, request: Request) -> Response:
        serializer = PreferencesChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = notification_preferences_set(
            acting_user=actor(request), changes=serializer.validated_data["preferences"]
        )
        return Response({"preferences": rows})
