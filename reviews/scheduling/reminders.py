"""Reminders before each occurrence (exactly once) and marking the ones not completed missed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.business_time import BusinessCalendar
from engagements.catalog.models import Method, ServiceFunction
from engagements.contacts.models import Contact
from engagements.selectors import engagement_calendar
from portal.webhooks.events import emit
from reviews.scheduling.models import Occurrence, OccurrenceReminder


def business_days_before(calendar: BusinessCalendar, start: datetime, days: int) -> datetime:
    """The same local time `days` business days (weekdays open, not holidays) before `start`."""
    local = start.astimezone(calendar.zone)
    day = local.date()
    remaining = days
    while remaining > 0:
        day -= timedelta(days=1)
        if calendar.hours[day.weekday()] is not None and day not in calendar.holidays:
            remaining -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=calendar.zone)


def participants(occurrence: Occurrence) -> list:
    engagement = occurrence.engagement
    contacts = [
        contact.user
        for contact in Contact.objects.filter(
            engagement=engagement, removed_at__isnull=True
        ).select_related("user")
    ]
    return [engagement.manager, engagement.deputy, *contacts]


def send_due_reminders(now: datetime | None = None) -> int:
    """Remind participants of occurrences whose reminder time has come; each exactly once."""
    now = now or timezone.now()
    lead_days = settings.REVIEW_REMINDER_BUSINESS_DAYS
    # A business day before can be up to a long weekend plus holidays away: look 10 days ahead.
    candidates = (
        Occurrence.objects.filter(
            status=Occurrence.Status.SCHEDULED,
            scheduled_start__gt=now,
            scheduled_start__lte=now + timedelta(days=10),
            reminder__isnull=True,
        )
        .select_related("engagement__plan", "engagement__manager", "engagement__deputy")
        .order_by("scheduled_start")
    )
    calendars: dict[int, BusinessCalendar] = {}
    sent = 0
    for occurrence in candidates:
        engagement = occurrence.engagement
        if engagement.pk not in calendars:
            calendars[engagement.pk] = engagement_calendar(engagement, with_after_hours=False)
        if (
            business_days_before(calendars[engagement.pk], occurrence.scheduled_start, lead_days)
            > now
        ):
            continue
        if _remind(occurrence):
            sent += 1
    return sent


def _remind(occurrence: Occurrence) -> bool:
    from portal.notifications import notify

    try:
        with transaction.atomic():
            OccurrenceReminder.objects.create(occurrence=occurrence)
            engagement = occurrence.engagement
            function = _deliverable_function(occurrence.deliverable)

            def render() -> tuple[str, str]:
                when = timezone.localtime(occurrence.scheduled_start, engagement.zone)
                method = dict(Method.choices).get(occurrence.method, occurrence.method)
                return (
                    _("Reminder: %(what)s with %(engagement)s on %(when)s")
                    % {
                        "what": deliverable_label(occurrence.deliverable, function),
                        "engagement": engagement,
                        "when": f"{date_format(when, 'DATETIME_FORMAT')} {when.tzname()}",
                    },
                    _("Method: %(method)s") % {"method": method},
                )

            notify(
                users=participants(occurrence),
                kind="occurrence.reminder",
                key=f"occurrence:{occurrence.pk}:reminder",
                engagement=engagement,
                url=f"/reviews/{occurrence.pk}/",
                render=render,
            )
        return True
    except IntegrityError:
        return False  # another run reminded it first


def _deliverable_function(code: str) -> ServiceFunction | None:
    from reviews.scheduling.models import WEEKLY_CALL

    if code == WEEKLY_CALL:
        return None
    return ServiceFunction.objects.filter(code=code).only("code", "name", "name_ko").first()


def deliverable_label(code: str, function: ServiceFunction | None = None) -> str:
    """What an occurrence delivers, in the active language (pass the function if it is known)."""
    from reviews.scheduling.models import WEEKLY_CALL

    if code == WEEKLY_CALL:
        return str(_("Weekly call"))
    if function is None:
        function = _deliverable_function(code)
    return function.display_name if function else code


def mark_missed(now: datetime | None = None) -> int:
    """Occurrences not completed by their end plus the grace period become missed."""
    now = now or timezone.now()
    grace = timedelta(hours=settings.REVIEW_MISSED_GRACE_HOURS)
    missed = 0
    stale = Occurrence.objects.filter(
        status=Occurrence.Status.SCHEDULED, scheduled_start__lt=now - grace
    ).only("id", "scheduled_start", "duration_minutes")
    for occurrence in stale:
        # Conditional update: a completion racing with this run wins.
        if occurrence.ends_at + grace <= now and Occurrence.objects.filter(
            pk=occurrence.pk, status=Occurrence.Status.SCHEDULED
        ).update(status=Occurrence.Status.MISSED, updated_at=timezone.now()):
            missed += 1
            emit("review.missed", occurrence)
    return missed
