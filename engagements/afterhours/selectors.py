"""After-hours support requests: reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

from django.db.models import QuerySet

from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import Engagement

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


def pending_after_hours(
    queryset: QuerySet[AfterHoursRequest],
    *,
    engagements: Mapping[int, Engagement] | None = None,
) -> list[AfterHoursRequest]:
    """The first 20 requests still to decide, earliest window first. A page that has the
    requests' engagements loaded already (with their organization and plan) passes them by id:
    the statement then joins only the requester (the board: four joins fewer to plan)."""
    pending = queryset.filter(status=AfterHoursRequest.Status.PENDING).order_by("starts_at")
    if engagements is None:
        return list(
            pending.select_related("engagement__organization", "engagement__plan", "requested_by")[
                :20
            ]
        )
    requests = list(pending.select_related("requested_by")[:20])
    for request in requests:
        request.engagement = engagements[request.engagement_id]
    return requests
