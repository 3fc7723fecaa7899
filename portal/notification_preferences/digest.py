"""The daily digest: the notifications a person wanted in one e-mail a day, sent once per
person and local day, at the first run at or after DIGEST_HOUR in their time zone.

Exactly once: the digest claims its (person, local day) with a unique row in the same
transaction that queues the e-mail and clears the notifications it lists, so a second run the
same day, or two runs at once (the second waits on the first's row and then finds it), queue
nothing more. The notifications are locked in id order (portal.locks) first."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.notification_preferences.models import NotificationDigest
from portal.notifications import Notification, OutboxEmail
from portal.text import header_safe

logger = logging.getLogger(__name__)


def _local_now(user: object, now: datetime) -> datetime:
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return now.astimezone(zone)


def _digest_text(notifications: list[Notification]) -> tuple[str, str]:
    subject = ngettext(
        "Your daily digest: %(count)d notification",
        "Your daily digest: %(count)d notifications",
        len(notifications),
    ) % {"count": len(notifications)}
    lines = [_("What happened since your last digest:"), ""]
    for notification in notifications:
        lines.append(f"- {notification.title}")
        if notification.url:
            lines.append(f"  {settings.SITE_URL}{notification.url}")
    lines += [
        "",
        _("Change what you receive: %(url)s")
        % {"url": f"{settings.SITE_URL}/me/notification-preferences/"},
    ]
    return header_safe(subject), "\n".join(lines)


def send_digest(user_id: int, now: datetime | None = None) -> bool:
    """Queue today's digest for one person if it is due and not sent yet; True if queued."""
    from portal.accounts.models import User

    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    local = _local_now(user, now)
    if local.hour < settings.NOTIFICATION_DIGEST_HOUR:
        return False
    try:
        with transaction.atomic():
            digest = NotificationDigest.objects.create(user=user, day=local.date())
            waiting = list(
                Notification.objects.select_for_update()
                .filter(user=user, awaiting_digest=True)
                .order_by("id")
            )
            if not waiting:
                transaction.set_rollback(True)  # nothing to say: today's digest stays unsent
                return False
            language = user.language or settings.LANGUAGE_CODE
            with translation.override(language):
                subject, body = _digest_text(waiting)
            OutboxEmail.objects.create(
                to=user.email, subject=subject[:250], body=body, language=language
            )
            Notification.objects.filter(pk__in=[row.pk for row in waiting]).update(
                awaiting_digest=False
            )
            digest.count = len(waiting)
            digest.save(update_fields=["count"])
    except IntegrityError:
        return False  # today's digest went out already (or is going out in another run)
    return True


def send_digests(now: datetime | None = None) -> int:
    """Queue every due digest; returns how many were queued."""
    now = now or timezone.now()
    people = (
        Notification.objects.filter(awaiting_digest=True)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    return sum(send_digest(user_id, now) for user_id in list(people))
