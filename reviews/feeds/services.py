"""Personal calendar feeds (iCalendar): writes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import User
from portal.audit import audit
from portal.locks import lock_users
from reviews.feeds.models import CalendarFeed

FETCH_RECORD_INTERVAL = timedelta(minutes=1)


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
