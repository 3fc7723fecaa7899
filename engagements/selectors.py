"""Reads about engagements that depend on who asks or when: the scope hooks, the responsible
manager, the business calendar, weekly hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from engagements.afterhours.models import AfterHoursRequest
from engagements.business_time import BusinessCalendar, country_holidays
from engagements.contracts.models import Engagement, EngagementHoliday, parse_business_hours
from portal.accounts.models import User
from portal.errors import EngagementNotActive, NotAllowed
from portal.tenancy.scoping import unscoped


def engagement_ids_served_by(user: User) -> list[int]:
    """Engagements the user manages or deputizes."""
    return list(
        unscoped(Engagement, "a manager's scope is built from the engagements they serve")
        .filter(Q(manager=user) | Q(deputy=user))
        .order_by()  # a set: not the model's order, which joins the organization to sort
        .values_list("id", flat=True)
    )


def organization_ids_of_engagements(engagement_ids: Iterable[int]) -> list[int]:
    return list(
        unscoped(Engagement, "a manager's scope is built from their engagements' organizations")
        .filter(id__in=list(engagement_ids))
        .order_by()  # DISTINCT over the ids alone, not over the model's sort columns too
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


def term_notice(engagement: Engagement, today: date | None = None) -> str:
    """Why the engagement takes nothing new today ("ended on …", "starts on …"); "" in its term."""
    today = today or engagement.local_today()
    if today > engagement.end_date:
        return _("This engagement ended on %(date)s.") % {
            "date": date_format(engagement.end_date, "DATE_FORMAT")
        }
    if today < engagement.start_date:
        return _("This engagement starts on %(date)s.") % {
            "date": date_format(engagement.start_date, "DATE_FORMAT")
        }
    return ""


def require_in_term(acting_user: User, engagement: Engagement) -> None:
    """Refuse (`EngagementNotActive`) a customer's new item on an engagement outside its term
    (start and end dates, the engagement's local day). Its staff are not held: they import
    history and finish what is open."""
    if serves(acting_user, engagement):
        return
    notice = term_notice(engagement)
    if notice:
        raise EngagementNotActive(
            " ".join(
                [notice, _("It is read-only: its history stays visible, nothing new is taken.")]
            )
        )


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
