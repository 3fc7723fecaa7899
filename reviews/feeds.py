"""Each user's iCalendar feed of their calls and reviews (SPEC §7), and its pages.

The feed URL carries a random token that is the credential (calendar clients cannot sign in);
only its SHA-256 is stored and a new one revokes the old. The feed has no session, so its view
opens the token owner's tenant scope itself. Times are written in UTC ("Z"), which every client
shows in its own zone.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from icalendar import Calendar, Event

from engagements.models import Method, ServiceFunction
from portal.accounts.models import User
from portal.audit import audit
from portal.http import AuthenticatedHttpRequest
from portal.locks import lock_users
from portal.tenancy.scoping import tenant_scope
from reviews.models import WEEKLY_CALL, CalendarFeed, Occurrence

PAST = timedelta(days=30)
AHEAD = timedelta(days=180)
FETCH_RECORD_INTERVAL = timedelta(minutes=1)
SHOWN_STATUSES = (
    Occurrence.Status.SCHEDULED,
    Occurrence.Status.COMPLETED,
    Occurrence.Status.CANCELLED,
)
MAX_TOKEN_LENGTH = 100

# --- Operations --------------------------------------------------------------------------------


def active_feed(user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def calendar_feed_create(*, acting_user: User) -> tuple[CalendarFeed, str]:
    """Revoke the user's feed, if any, and make a new one. Returns it with its token, which
    is not stored (only its hash): show it once. Locks the user's row against a twin request."""
    lock_users([acting_user])
    now = timezone.now()
    CalendarFeed.objects.filter(user=acting_user, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=acting_user, token_hash=CalendarFeed.hash(token), created_at=now
    )
    audit(actor=acting_user, action="calendar_feed.create", instance=feed)
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, acting_user: User) -> CalendarFeed | None:
    """Revoke the user's active feed: its URL answers 404 from now on."""
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(user=acting_user, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit(actor=acting_user, action="calendar_feed.revoke", instance=feed)
    return feed


def record_fetch(feed: CalendarFeed, now: datetime) -> None:
    """Note when the feed was last fetched, writing at most once a minute."""
    CalendarFeed.objects.filter(pk=feed.pk).filter(
        Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - FETCH_RECORD_INTERVAL)
    ).update(last_fetched_at=now)


# --- The calendar ------------------------------------------------------------------------------


def feed_occurrences(user: User, *, now: datetime) -> QuerySet[Occurrence]:
    """The user's occurrences from 30 days ago to 180 days ahead; call inside their scope.

    Customers: their organizations' engagements (the scope). Staff, admins included: the
    engagements they manage or deputize, not everything an admin may see.
    """
    occurrences = Occurrence.objects.filter(
        status__in=SHOWN_STATUSES,
        scheduled_start__gte=now - PAST,
        scheduled_start__lte=now + AHEAD,
    )
    if user.is_provider_staff:
        occurrences = occurrences.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
    return occurrences.select_related("engagement").order_by("scheduled_start", "id")


def _uid_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "service-portal"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def build_calendar(user: User, occurrences: QuerySet[Occurrence], *, now: datetime) -> bytes:
    """A VCALENDAR with one VEVENT per occurrence, in the user's language."""
    host = _uid_host()
    site = settings.SITE_URL.rstrip("/")
    labels = dict(ServiceFunction.objects.values_list("code", "name"))
    methods = dict(Method.choices)
    with translation.override(user.language):
        labels[WEEKLY_CALL] = _("Weekly call")
        calendar = Calendar()
        calendar.add("prodid", "-//Service Portal//Reviews and calls//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Service Portal: reviews and calls"))
        calendar.add("x-published-ttl", "PT1H")
        for occurrence in occurrences:
            label = labels.get(occurrence.deliverable, occurrence.deliverable)
            method = str(methods.get(occurrence.method, occurrence.method))
            link = f"{site}/reviews/{occurrence.pk}/"
            event = Event()
            event.add("uid", f"occurrence-{occurrence.pk}@{host}")
            event.add("dtstamp", _utc(now))
            event.add("dtstart", _utc(occurrence.scheduled_start))
            event.add("dtend", _utc(occurrence.ends_at))
            event.add("summary", f"{label}: {occurrence.engagement.name}")
            event.add("description", f"{_('Method')}: {method}\n{link}")
            event.add("url", link)
            event.add(
                "status",
                "CANCELLED" if occurrence.status == Occurrence.Status.CANCELLED else "CONFIRMED",
            )
            event.add("last-modified", _utc(occurrence.completed_at or occurrence.created_at))
            calendar.add_component(event)
        # Maintenance windows (service function `maintenance`), see reviews.selectors_functions.
        from reviews.selectors_functions import dated_feed_events, maintenance_feed_events

        for event in maintenance_feed_events(user, now=now, host=host, site=site):
            calendar.add_component(event)
        for event in dated_feed_events(user, now=now, host=host, site=site):
            calendar.add_component(event)
    return calendar.to_ical()


# --- Pages -------------------------------------------------------------------------------------


def _page(request: AuthenticatedHttpRequest, **context: object) -> HttpResponse:
    context.setdefault("feed", active_feed(request.user))
    return render(request, "reviews/calendar_feed.html", context)


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
