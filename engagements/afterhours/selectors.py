"""After-hours support requests: reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import QuerySet

from engagements.afterhours.models import AfterHoursRequest

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


def pending_after_hours(queryset: QuerySet[AfterHoursRequest]) -> list[AfterHoursRequest]:
    return list(
        queryset.filter(status=AfterHoursRequest.Status.PENDING)
        .select_related("engagement__organization", "engagement__plan", "requested_by")
        .order_by("starts_at")[:20]
    )
