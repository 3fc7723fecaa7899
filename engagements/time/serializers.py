"""Time entries and the weekly hours budget: API serializers."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from engagements.contracts.models import Engagement
from engagements.contracts.serializers import ProviderStaffField
from engagements.time.models import OverageFlag, TimeEntry
from portal.api.serializers import (
    ScopedRelatedField,
    StrictModelSerializer,
)


class WeekMinutesSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    minutes = serializers.IntegerField()


class OverageFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = OverageFlag
        fields = [
            "id",
            "raised_at",
            "average_minutes",
            "cap_minutes",
            "weekly_minutes",
            "last_average_minutes",
        ]
        read_only_fields = fields


class HoursSerializer(serializers.Serializer):
    """Manager time on an engagement: this week and the trailing 4 full weeks (Monday first)."""

    week_start = serializers.DateField(help_text=_("Monday of the current week."))
    this_week_minutes = serializers.IntegerField()
    trailing_weeks = WeekMinutesSerializer(many=True)
    average_minutes = serializers.IntegerField(help_text=_("Average of the trailing full weeks."))
    cap_minutes = serializers.IntegerField(
        allow_null=True,
        help_text=_("The plan's weekly cap; for the engagement's provider staff (null otherwise)."),
    )
    over_cap = serializers.BooleanField(
        allow_null=True,
        help_text=_(
            "Whether the average is over the cap; for the engagement's provider staff "
            "(null otherwise)."
        ),
    )
    overage_flag = OverageFlagSerializer(
        allow_null=True,
        help_text=_(
            "The open 'additional contract recommended' flag; for the engagement's provider "
            "staff (null otherwise)."
        ),
    )


class TimeEntrySerializer(StrictModelSerializer):
    """Minutes on an engagement. `manager` is whoever logs it; admins may log for a manager."""

    engagement = ScopedRelatedField(model=Engagement)
    manager = ProviderStaffField(required=False)

    class Meta:
        model = TimeEntry
        fields = ["id", "engagement", "manager", "date", "minutes", "activity", "note"]
        read_only_fields = ["id"]
