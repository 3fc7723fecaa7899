"""Serializers of the reviews API: occurrences (calls, reviews, requested sessions), their
action items, and the input of the commands on them.

Writable relations are scoped to the actor: engagements through `ScopedRelatedField`, people
through `VisibleUserField` (whom the actor may see; anyone else fails as a missing id).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.catalog.models import Method, ServiceFunction
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.accounts.selectors import users_visible_to
from portal.api.serializers import (
    MULTILINE,
    ScopedRelatedField,
    StrictSerializer,
    TimestampsMixin,
)
from reviews.scheduling.models import ActionItem, Occurrence


class VisibleUserField(serializers.PrimaryKeyRelatedField):
    """An active person the request's actor may see, by id."""

    def __init__(self, **kwargs: Any) -> None:
        # The model, for the schema; the choices are `get_queryset`'s.
        kwargs.setdefault("queryset", User.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[User]:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return User.objects.none()
        return users_visible_to(request.user).filter(is_active=True)


@extend_schema_field(
    {"type": "string", "enum": Method.values, "description": "A delivery method (SPEC §3)."}
)
class MethodField(serializers.ChoiceField):
    """A delivery method. Its schema lists the bare values: the labelled set is already
    published as the cadences' `methods`, and one choice set must not get two names."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Method.choices, **kwargs)


class ActionItemSerializer(TimestampsMixin, serializers.ModelSerializer):
    class Meta:
        model = ActionItem
        fields = [
            "id",
            "occurrence",
            "description",
            "owner",
            "owner_name",
            "due_date",
            "done",
            "done_at",
        ]
        read_only_fields = fields


class OccurrenceSerializer(TimestampsMixin, serializers.ModelSerializer):
    """A scheduled (or requested) delivery. `scheduled_at` is its start; `report_url` is set
    for service reviews."""

    scheduled_at = serializers.DateTimeField(source="scheduled_start", read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    attendees: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    action_items = ActionItemSerializer(many=True, read_only=True)
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = Occurrence
        fields = [
            "id",
            "engagement",
            "deliverable",
            "scheduled_at",
            "method",
            "status",
            "period",
            "duration_minutes",
            "ends_at",
            "minutes",
            "attendees",
            "other_attendees",
            "completed_at",
            "requested_by",
            "host",
            "action_items",
            "report_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_report_url(self, occurrence: Occurrence) -> str | None:
        if not occurrence.is_review:
            return None
        path = reverse("review-report", kwargs={"pk": occurrence.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ReportSerializer(serializers.Serializer):
    """A service review's report: frozen when the review was completed, else built live."""

    occurrence = serializers.IntegerField()
    frozen = serializers.BooleanField(help_text=_("True once the review is completed."))
    generated_at = serializers.DateTimeField(
        help_text=_("When the figures were frozen, or now for a live report.")
    )
    # DRF's metaclass moves declared fields off the class, so this does not shadow .data;
    # the stub cannot know.
    data = serializers.JSONField()  # type: ignore[assignment]


class OccurrenceRequestSerializer(StrictSerializer):
    """An "as needed" session asked for by a named contact or the engagement's staff."""

    engagement = ScopedRelatedField(model=Engagement)
    deliverable = serializers.CharField(
        max_length=60, help_text=_("A service function code, e.g. upgrade_planning.")
    )
    method = MethodField()
    preferred_start = serializers.DateTimeField()
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        default="",
        trim_whitespace=True,
        style=MULTILINE,
    )

    def validate_deliverable(self, value: str) -> str:
        if not ServiceFunction.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("No service function has this code."))
        return value


class ActionItemInputSerializer(StrictSerializer):
    description = serializers.CharField(max_length=300)
    owner = VisibleUserField(required=False, allow_null=True, default=None)
    owner_name = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class CompleteSerializer(StrictSerializer):
    """What happened: the method actually used, minutes, attendees and action items."""

    method = MethodField()
    minutes = serializers.CharField(max_length=50_000, style=MULTILINE)
    attendees = VisibleUserField(many=True, required=False, default=list)
    other_attendees = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )
    action_items = ActionItemInputSerializer(many=True, required=False, default=list)
    completed_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("Defaults to now.")
    )


class CancelSerializer(StrictSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", style=MULTILINE
    )


class ActionItemDoneSerializer(StrictSerializer):
    done = serializers.BooleanField()
