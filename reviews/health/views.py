"""Engagement health and overdue action items: pages (provider staff only)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from engagements.contracts.models import Engagement
from portal.http import AuthenticatedHttpRequest
from portal.pages import provider_staff_required
from reviews.health.scoring import score_health
from reviews.health.selectors import (
    ORDERINGS,
    days_overdue,
    health_inputs,
    overdue_action_items,
)

OVERDUE_LIMIT = 200  # rows of the overdue list; the API pages through all of them


@provider_staff_required
@require_GET
def engagement_health(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's health with each factor's figure, threshold and points."""
    engagement = get_object_or_404(Engagement.objects.select_related("organization", "plan"), pk=pk)
    inputs = health_inputs([engagement], timezone.now())[engagement.pk]
    return render(
        request,
        "reviews/health/engagement_health.html",
        {"engagement": engagement, "health": score_health(inputs), "inputs": inputs},
    )


@provider_staff_required
@require_GET
def overdue_items(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Overdue action items of the engagements the viewer serves (admins: all), by due date."""
    now = timezone.now()
    sort = request.GET.get("sort", "due_date")
    if sort not in ORDERINGS:
        sort = "due_date"
    items = list(overdue_action_items(request.user, now, sort)[: OVERDUE_LIMIT + 1])
    for item in items:
        item.days_overdue = days_overdue(item, now)  # type: ignore[attr-defined]
    return render(
        request,
        "reviews/health/overdue_action_items.html",
        {
            "items": items[:OVERDUE_LIMIT],
            "more": len(items) > OVERDUE_LIMIT,
            "limit": OVERDUE_LIMIT,
            "sort": sort,
            "other_sort": "-due_date" if sort == "due_date" else "due_date",
        },
    )
