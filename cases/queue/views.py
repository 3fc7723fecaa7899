"""The staff queue: pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.queue.selectors import QUEUE_LIMIT, queue_sections
from portal.http import AuthenticatedHttpRequest
from portal.pages import provider_staff_required


@provider_staff_required
@require_GET
def staff_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """New and unassigned, waiting on me, at risk, breached: constant queries."""
    now = timezone.now()
    sections = queue_sections(request.user, now)
    return TemplateResponse(  # its live fragment (portal.live) renders one block of it
        request,
        "cases/queue/queue.html",
        {"sections": sections, "limit": QUEUE_LIMIT, "now": now},
    )
