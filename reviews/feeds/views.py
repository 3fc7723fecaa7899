"""Personal calendar feeds (iCalendar): pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from portal.http import AuthenticatedHttpRequest
from portal.tenancy.scoping import tenant_scope
from reviews.feeds.models import CalendarFeed
from reviews.feeds.selectors import build_calendar, feed_occurrences
from reviews.feeds.services import (
    active_feed,
    calendar_feed_create,
    calendar_feed_revoke,
    record_fetch,
)

MAX_TOKEN_LENGTH = 100


def _page(request: AuthenticatedHttpRequest, **context: object) -> HttpResponse:
    context.setdefault("feed", active_feed(request.user))
    return render(request, "reviews/feeds/calendar_feed.html", context)


@login_required
@require_safe
def calendar_feed(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in user's feed: whether one is active, and the buttons to renew or revoke."""
    return _page(request)


@never_cache
@login_required
@require_POST
def calendar_feed_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new feed URL, shown once; the previous URL stops working."""
    feed, token = calendar_feed_create(acting_user=request.user)
    url = request.build_absolute_uri(reverse("calendar_feed_ics", kwargs={"token": token}))
    return _page(request, feed=feed, new_url=url, webcal_url="webcal://" + url.split("://", 1)[1])


@login_required
@require_POST
def calendar_feed_revoke_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    if calendar_feed_revoke(acting_user=request.user) is not None:
        messages.success(request, _("Calendar feed revoked: its address no longer works."))
    return redirect("calendar_feed")


@require_safe
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself. No session: the token is the credential; unknown or revoked → 404."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise Http404
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=CalendarFeed.hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active:
        raise Http404
    now = timezone.now()
    with tenant_scope(feed.user):
        body = build_calendar(feed.user, feed_occurrences(feed.user, now=now), now=now)
    record_fetch(feed, now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="service-portal.ics"'
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, no_store=True)
    return response
