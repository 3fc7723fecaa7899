"""Engagements, the contracts between the vendor and a customer organization: reads."""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from engagements.afterhours.selectors import pending_after_hours
from engagements.business_time import (
    BusinessCalendar,
    country_holidays,
    is_business_time,
    next_opening,
)
from engagements.catalog.models import ServiceFunction
from engagements.catalog.selectors import catalog_snapshot
from engagements.contacts.models import Contact
from engagements.contracts.models import (
    Engagement,
    EngagementHoliday,
    parse_business_hours,
)
from engagements.entitlements import is_entitled, prime_function_codes
from engagements.selectors import serves, term_notice
from engagements.time.models import OverageFlag
from engagements.time.selectors import HoursSummary, hours_summaries
from portal.accounts.models import User
from portal.tenancy.scoping import instances_compiled_once


@dataclass
class EngagementCard:
    """What the dashboard shows about one engagement, computed for many in constant queries."""

    engagement: Engagement
    functions: list[ServiceFunction]
    hours: HoursSummary
    open_now: bool
    opens_at: datetime | None
    manager_absence: Absence | None = None
    deputy_absence: Absence | None = None
    windows: list[AfterHoursRequest] = field(default_factory=list)
    is_contact: bool = False
    # the viewer is provider staff of the engagement: sees the hours budget and overage signals
    provider: bool = False
    # "This engagement ended on …" / "starts on …": outside its term it takes nothing new.
    term_notice: str = ""

    @property
    def takes_requests(self) -> bool:
        """The viewer may raise new items here: a named contact, within the term."""
        return self.is_contact and not self.term_notice

    @property
    def deputy_covers(self) -> bool:
        return self.manager_absence is not None and self.engagement.deputy_id is not None

    @property
    def responsible(self) -> User:
        return (
            cast("User", self.engagement.deputy) if self.deputy_covers else self.engagement.manager
        )

    @property
    def overage_open(self) -> bool:
        return bool(getattr(self.engagement, "overage_open", False))


def _prefetched_calendar(engagement: Engagement, now: datetime) -> BusinessCalendar:
    """The engagement's calendar from now on, from the added holidays and windows read with
    the cards (`_attach_calendars`)."""
    today = engagement.local_today(now)
    days: set[date] = set()
    if engagement.holiday_country:
        with contextlib.suppress(ValueError):  # validated on save; never fail a dashboard
            days.update(country_holidays(engagement.holiday_country, (today.year, today.year + 1)))
    days.update(holiday.date for holiday in getattr(engagement, "card_holidays", ()))
    return BusinessCalendar(
        zone=engagement.zone,
        hours=parse_business_hours(engagement.business_hours),
        holidays=frozenset(days),
        extra_windows=tuple(
            (window.starts_at, window.ends_at)
            for window in getattr(engagement, "upcoming_windows", ())
        ),
    )


ENDED_CARD_DAYS = 90


def engagement_cards(
    queryset: QuerySet[Engagement] | None = None,
    *,
    user: User,
    now: datetime | None = None,
    organization_ids: Iterable[int] | None = None,
) -> list[EngagementCard]:
    """Cards for the engagements of `queryset` (already scoped), or of `organization_ids` (the
    customer's home: then every statement is compiled once, `instances_compiled_once`):
    current and upcoming ones, and those that ended in the last ENDED_CARD_DAYS days (saying
    so, read-only).

    Constant queries: the engagements (with whether the viewer is a named contact of each),
    their added holidays and approved windows still to come, current absences and the week
    totals; the plans' functions come from the cached catalog snapshot.
    """
    now = now or timezone.now()
    ended_since = (now - timedelta(days=ENDED_CARD_DAYS)).date()
    if organization_ids is not None:
        organizations = sorted(set(organization_ids))

        def build(values: Sequence[Any]) -> QuerySet[Engagement]:
            return _card_engagements(user).filter(
                organization_id__in=values[:-1], end_date__gte=values[-1]
            )

        engagements = instances_compiled_once(
            f"contracts.cards:{user.pk}:{user.kind}", build, [*organizations, ended_since]
        )
    else:
        # `&`: the conditions of `queryset` join this statement's, not a subquery of its ids
        engagements = list(
            (
                _card_engagements(user)
                & (queryset if queryset is not None else Engagement.objects.none())
            ).filter(end_date__gte=ended_since)
        )
    _attach_calendars(engagements, now)
    if not engagements:
        return []
    catalog = catalog_snapshot()  # the functions and the matrix, one cache read
    prime_function_codes(engagements, catalog)  # the entitlement gate's per-plan cache
    functions = catalog.functions
    staff_ids = {engagement.manager_id for engagement in engagements} | {
        engagement.deputy_id for engagement in engagements if engagement.deputy_id
    }
    absences = list(
        Absence.objects.filter(manager_id__in=staff_ids, starts_at__lte=now, ends_at__gt=now)
    )
    summaries = hours_summaries(engagements)
    cards = []
    for engagement in engagements:
        calendar = _prefetched_calendar(engagement, now)
        open_now = is_business_time(calendar, now)
        cards.append(
            EngagementCard(
                engagement=engagement,
                functions=[
                    function for function in functions if is_entitled(engagement, function.code)
                ],
                hours=summaries[engagement.pk],
                open_now=open_now,
                opens_at=None if open_now else _next_opening_or_none(calendar, now),
                manager_absence=_current_absence(absences, engagement.manager_id, now),
                deputy_absence=_current_absence(absences, engagement.deputy_id, now),
                windows=list(getattr(engagement, "upcoming_windows", ())),
                is_contact=bool(getattr(engagement, "viewer_is_contact", False)),
                provider=serves(user, engagement),
                term_notice=term_notice(engagement, engagement.local_today(now)),
            )
        )
    return cards


def _card_engagements(user: User) -> QuerySet[Engagement]:
    """The cards' engagements with what they show of them: for a customer whether they are a
    named contact of each (a column here, not a query of its own; no overage column: the hours
    budget and its signals are the provider's), for staff whether an overage flag is open."""
    if user.is_customer:
        return _engagements().annotate(
            viewer_is_contact=Exists(
                Contact.objects.filter(
                    engagement=OuterRef("pk"), user=user, removed_at__isnull=True
                )
            )
        )
    return _with_overage(_engagements())


def _attach_calendars(engagements: list[Engagement], now: datetime) -> None:
    """Each engagement's added holidays from yesterday on (`card_holidays`) and approved
    after-hours windows still to come (`upcoming_windows`, earliest first): two statements
    compiled once for any number of engagements."""
    ids = [engagement.pk for engagement in engagements]
    by_id = {engagement.pk: engagement for engagement in engagements}
    for engagement in engagements:
        engagement.card_holidays = []  # type: ignore[attr-defined]
        engagement.upcoming_windows = []  # type: ignore[attr-defined]
    if not ids:
        return
    yesterday = (now - timedelta(days=1)).date()
    for holiday in instances_compiled_once(
        "contracts.card_holidays",
        lambda values: EngagementHoliday.objects.filter(
            engagement_id__in=values[:-1], date__gte=values[-1]
        ),
        [*ids, yesterday],
    ):
        holiday.engagement = by_id[holiday.engagement_id]
        by_id[holiday.engagement_id].card_holidays.append(holiday)  # type: ignore[attr-defined]
    for window in instances_compiled_once(
        "contracts.card_windows",
        lambda values: AfterHoursRequest.objects.filter(
            engagement_id__in=values[:-1],
            status=AfterHoursRequest.Status.APPROVED,
            ends_at__gt=values[-1],
        ).order_by("starts_at", "id"),
        [*ids, now],
    ):
        window.engagement = by_id[window.engagement_id]
        by_id[window.engagement_id].upcoming_windows.append(window)  # type: ignore[attr-defined]


def served_by(user: User) -> QuerySet[Engagement]:
    return Engagement.objects.filter(Q(manager=user) | Q(deputy=user))


def admin_panel(now: datetime | None = None) -> dict[str, Any]:
    """What needs an admin's attention: open overage flags, engagements without a deputy,
    pending after-hours requests."""
    now = now or timezone.now()
    flags = OverageFlag.objects.filter(cleared_at__isnull=True).select_related(
        "engagement__organization", "engagement__plan"
    )
    without_deputy = Engagement.objects.filter(
        deputy__isnull=True, end_date__gte=(now - timedelta(days=1)).date()
    ).select_related("organization", "plan", "manager")
    return {
        "overage_flags": list(flags[:20]),
        "overage_count": flags.count(),
        "without_deputy": list(without_deputy[:20]),
        "without_deputy_count": without_deputy.count(),
        "active_engagement_count": Engagement.objects.filter(
            start_date__lte=now.date(), end_date__gte=now.date()
        ).count(),
        "pending_requests": pending_after_hours(AfterHoursRequest.objects.all()),
    }


def _engagements() -> QuerySet[Engagement]:
    return Engagement.objects.select_related("organization", "plan", "manager", "deputy")


def with_status(queryset: QuerySet[Engagement], status: str, now: datetime) -> QuerySet[Engagement]:
    """`queryset` narrowed to the engagements whose `status` (upcoming, active, expired: by
    their term and the date in their own zone) is `status`, in the database: one condition per
    time zone the engagements use (one query for the zones), so a list can be paged."""
    zones = queryset.order_by().values_list("timezone", flat=True).distinct()
    condition = Q(pk__in=[])
    for zone in zones:
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        if status == Engagement.Status.UPCOMING:
            within = Q(start_date__gt=today)
        elif status == Engagement.Status.EXPIRED:
            within = Q(end_date__lt=today)
        else:
            within = Q(start_date__lte=today, end_date__gte=today)
        condition |= Q(timezone=zone) & within
    return queryset.filter(condition)


def _with_overage(queryset: QuerySet[Engagement]) -> QuerySet[Engagement]:
    return queryset.annotate(
        overage_open=Exists(
            OverageFlag.objects.filter(engagement=OuterRef("pk"), cleared_at__isnull=True)
        )
    )


def _next_opening_or_none(calendar: BusinessCalendar, now: datetime) -> datetime | None:
    try:
        return next_opening(calendar, now)
    except ValueError:  # no business time within about three years
        return None


def _current_absence(absences: Iterable[Absence], user_id: int | None, now: datetime) -> Any:
    return next(
        (
            absence
            for absence in absences
            if absence.manager_id == user_id and absence.starts_at <= now < absence.ends_at
        ),
        None,
    )
