"""Reads about engagements that depend on who asks or when: the scope hooks, the responsible
manager, the business calendar, weekly hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise

from engagements.business_time import BusinessCalendar, country_holidays
from engagements.models import (
    Absence,
    AfterHoursRequest,
    Contact,
    Engagement,
    EngagementHoliday,
    TimeEntry,
    parse_business_hours,
)
from portal.accounts.models import User
from portal.errors import NotAllowed
from portal.tenancy.scoping import unscoped

# --- Hooks for tenancy: what a manager serves (these build scopes, so they are unscoped)


def engagement_ids_served_by(user: User) -> list[int]:
    """Engagements the user manages or deputizes."""
    return list(
        unscoped(Engagement, "a manager's scope is built from the engagements they serve")
        .filter(Q(manager=user) | Q(deputy=user))
        .values_list("id", flat=True)
    )


def organization_ids_of_engagements(engagement_ids: Iterable[int]) -> list[int]:
    return list(
        unscoped(Engagement, "a manager's scope is built from their engagements' organizations")
        .filter(id__in=list(engagement_ids))
        .values_list("organization_id", flat=True)
        .distinct()
    )


def staff_ids_serving(organization_ids: Iterable[int]) -> list[int]:
    """Managers and deputies of the organizations' engagements: whom their people work with."""
    rows = (
        unscoped(Engagement, "the staff serving organizations the scope already holds")
        .filter(organization_id__in=list(organization_ids))
        .values_list("manager_id", "deputy_id")
    )
    return sorted({staff for row in rows for staff in row if staff})


def serves(user: User, engagement: Engagement) -> bool:
    """Provider staff who work the engagement: its manager, its deputy, or an admin."""
    return user.is_provider_admin or user.pk in (engagement.manager_id, engagement.deputy_id)


def require_staff(acting_user: User, engagement: Engagement, message: str | Promise) -> None:
    """Refuse (`NotAllowed`, saying `message`) anyone but the staff who serve the engagement."""
    if not serves(acting_user, engagement):
        raise NotAllowed(message)


# --- Absences and the responsible manager ----------------------------------------------------


def absence_at(user: User | None, at: datetime) -> Absence | None:
    if user is None:
        return None
    return Absence.objects.filter(manager=user, starts_at__lte=at, ends_at__gt=at).first()


def responsible_manager(engagement: Engagement, at: datetime | None = None) -> User:
    """The manager, or the deputy while the manager is absent (SPEC §4)."""
    at = at or timezone.now()
    if engagement.deputy_id and absence_at(engagement.manager, at) is not None:
        return cast("User", engagement.deputy)  # deputy_id is set
    return engagement.manager


# --- Contacts ----------------------------------------------------------------------------------


def active_contacts(engagement: Engagement) -> QuerySet[Contact]:
    return Contact.objects.filter(engagement=engagement, removed_at__isnull=True).select_related(
        "user"
    )


def is_active_contact(engagement: Engagement, user: User) -> bool:
    return Contact.objects.filter(
        engagement=engagement, user=user, removed_at__isnull=True
    ).exists()


# --- The business calendar -----------------------------------------------------------------------


def engagement_calendar(
    engagement: Engagement, *, years: Iterable[int] | None = None, with_after_hours: bool = True
) -> BusinessCalendar:
    """The engagement's calendar: its zone and hours, holidays of its country plus the dates
    admins added, and (unless told otherwise) its approved after-hours windows."""
    added = EngagementHoliday.objects.filter(engagement=engagement).values_list("date", flat=True)
    windows: tuple[tuple[datetime, datetime], ...] = ()
    if with_after_hours:
        windows = tuple(
            AfterHoursRequest.objects.filter(
                engagement=engagement, status=AfterHoursRequest.Status.APPROVED
            ).values_list("starts_at", "ends_at")
        )
    return calendar_from(engagement, years, added, windows)


def engagement_calendars(engagements: Iterable[Engagement]) -> dict[int, BusinessCalendar]:
    """`engagement_calendar` (after-hours windows included) of several engagements, by id,
    in two queries whatever their number."""
    engagements = list(engagements)
    ids = [engagement.pk for engagement in engagements]
    added: dict[int, list[date]] = {pk: [] for pk in ids}
    for pk, day in EngagementHoliday.objects.filter(engagement_id__in=ids).values_list(
        "engagement_id", "date"
    ):
        added[pk].append(day)
    windows: dict[int, list[tuple[datetime, datetime]]] = {pk: [] for pk in ids}
    for pk, starts_at, ends_at in AfterHoursRequest.objects.filter(
        engagement_id__in=ids, status=AfterHoursRequest.Status.APPROVED
    ).values_list("engagement_id", "starts_at", "ends_at"):
        windows[pk].append((starts_at, ends_at))
    return {
        engagement.pk: calendar_from(
            engagement, None, added[engagement.pk], tuple(windows[engagement.pk])
        )
        for engagement in engagements
    }


def calendar_from(
    engagement: Engagement,
    years: Iterable[int] | None,
    added: Iterable[date],
    windows: tuple[tuple[datetime, datetime], ...] = (),
) -> BusinessCalendar:
    """The calendar of an engagement from holidays and after-hours windows already read (the
    callers that build many calendars read those in bulk)."""
    if years is None:
        this_year = engagement.local_today().year
        years = range(
            min(engagement.start_date.year, this_year - 1),
            max(engagement.end_date.year, this_year + 1) + 1,
        )
    holidays = (
        set(country_holidays(engagement.holiday_country, tuple(years)))
        if (engagement.holiday_country)
        else set()
    )
    holidays.update(added)
    return BusinessCalendar(
        zone=engagement.zone,
        hours=parse_business_hours(engagement.business_hours),
        holidays=frozenset(holidays),
        extra_windows=windows,
    )


# --- Weekly hours ------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class HoursSummary:
    this_week_minutes: int
    trailing_weeks: list[tuple[date, int]]  # (Monday, minutes), oldest first, full weeks only
    cap_minutes: int

    @property
    def trailing_average_minutes(self) -> int:
        if not self.trailing_weeks:
            return 0
        return round(
            sum(minutes for _week, minutes in self.trailing_weeks) / len(self.trailing_weeks)
        )

    @property
    def over_cap(self) -> bool:
        return self.trailing_average_minutes > self.cap_minutes


def hours_summary(
    engagement: Engagement, today: date | None = None, weeks: int = 4
) -> HoursSummary:
    """This week's minutes and the trailing `weeks` full weeks before it, in one query."""
    today = today or engagement.local_today()
    current = week_start(today)
    first = current - timedelta(weeks=weeks)
    rows = (
        TimeEntry.objects.filter(
            engagement=engagement, date__gte=first, date__lt=current + timedelta(days=7)
        )
        .values("date")
        .annotate(total=Sum("minutes"))
    )
    per_week: dict[date, int] = {}
    for row in rows:
        monday = week_start(row["date"])
        per_week[monday] = per_week.get(monday, 0) + row["total"]
    trailing = [
        (first + timedelta(weeks=n), per_week.get(first + timedelta(weeks=n), 0))
        for n in range(weeks)
    ]
    return HoursSummary(
        this_week_minutes=per_week.get(current, 0),
        trailing_weeks=trailing,
        cap_minutes=int(engagement.plan.weekly_hours_cap * 60),
    )
