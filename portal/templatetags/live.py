"""`{% live_poll "route" arg… %}`: the htmx attributes of a container that a live fragment
(portal/live.py) refreshes, keeping the page's query string (its filters, sort and page).

Polling is plain `every Ns` (a trigger filter would need `eval`, which the Content-Security-
Policy refuses); static/portal/live.js pauses it while the tab is hidden or the user works inside
the container, and fires `live-refresh` when the tab shows again.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def live_poll(
    context: dict[str, Any],
    route: str,
    *args: Any,
    presence: bool = False,
    swap: str = "innerHTML",
    keep_query: bool = True,
) -> SafeString:
    """`keep_query=False` for a poller of every page (the navigation's badges), which must not
    echo whatever a page was asked (an error page looks the same for any id)."""
    url = reverse(route, args=args)
    request = context.get("request")
    query = request.GET.urlencode() if request is not None and keep_query else ""
    seconds = settings.PRESENCE_POLL_SECONDS if presence else settings.LIVE_POLL_SECONDS
    return format_html(
        'hx-get="{}" hx-trigger="every {}s, live-refresh" hx-swap="{}" data-live',
        f"{url}?{query}" if query else url,
        seconds,
        swap,
    )
