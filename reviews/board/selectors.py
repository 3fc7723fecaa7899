"""The service manager's weekly board: reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connections
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from cases.casework.models import Case
from engagements.contracts.models import Engagement
from engagements.time.models import OverageFlag
from engagements.time.selectors import HoursSummary, week_start
from portal.accounts.models import User
from reviews.scheduling.models import Occurrence

BOARD_WEEKS = 2
BOARD_LIMIT = 50  # rows per board section; the rest are a click away


@dataclass
class BoardRow:
    """One engagement on the board: its sessions of this and next week, and its hours."""

    engagement: Engagement
    weeks: list[list[Occurrence]]
    hours: HoursSummary
    role: str = ""  # "manager" | "deputy" | "" (an admin looking on)

    @property
    def overage_raised_at(self) -> datetime | None:
        """When the engagement's open overage flag was raised (None: no open flag)."""
        return getattr(self.engagement, "open_overage_raised_at", None)


@dataclass
class Week:
    monday: date
    start: datetime
    end: datetime
    current: bool

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass
class CaseRisks:
    at_risk: list[Case] = field(default_factory=list)
    breached: list[Case] = field(default_factory=list)


def board_weeks(now: datetime, count: int = BOARD_WEEKS) -> list[Week]:
    """This week and the next, Monday to Sunday in the viewer's zone."""
    zone = timezone.get_current_timezone()
    monday = week_start(timezone.localdate(now))
    weeks = []
    for index in range(count):
        first = monday + timedelta(weeks=index)
        weeks.append(
            Week(
                monday=first,
                start=datetime.combine(first, time(), tzinfo=zone),
                end=datetime.combine(first + timedelta(days=7), time(), tzinfo=zone),
                current=index == 0,
            )
        )
    return weeks


def board_engagements(user: User) -> list[Engagement]:
    """Current engagements the viewer serves (admins: all), with when their open overage flag
    (at most one) was raised: a column of the one query, not a prefetch of its own."""
    queryset = Engagement.objects.all()
    if not user.is_provider_admin:
        queryset = queryset.filter(Q(manager=user) | Q(deputy=user))
    yesterday = timezone.localdate() - timedelta(days=1)
    return list(
        queryset.filter(end_date__gte=yesterday)
        .select_related("organization", "plan")  # the board names no manager or deputy
        .annotate(
            open_overage_raised_at=Subquery(
                OverageFlag.objects.filter(
                    engagement=OuterRef("pk"), cleared_at__isnull=True
                ).values("raised_at")[:1]
            )
        )
    )


def case_risks(engagements: list[Engagement], now: datetime, limit: int = BOARD_LIMIT) -> CaseRisks:
    """Open, unanswered items past their 75 % reminder: at risk until due, then breached.

    Each section is limited on its own, so breached items (which sort first) cannot crowd the
    at-risk ones out of a shared limit: one statement of both (`UNION ALL` of two limited
    selects) where the database allows it, else one query per section. Each item gets its
    engagement from `engagements` (already loaded) rather than a join."""
    by_id = {engagement.pk: engagement for engagement in engagements}
    unanswered = (
        Case.objects.filter(
            engagement_id__in=list(by_id),
            status__in=Case.OPEN_STATUSES,
            first_response_at__isnull=True,
            reminder_due_at__lte=now,
        )
        .select_related("assignee")
        # What the rows show: no description, no other timestamps or people (issue 7).
        .only(
            "id",
            "engagement_id",
            "kind",
            "severity",
            "subject",
            "received_at",
            "response_due_at",
            "assignee__name",
            "assignee__email",
        )
        .order_by("response_due_at", "id")
    )
    at_risk = unanswered.filter(response_due_at__gt=now)[:limit]
    breached = unanswered.filter(response_due_at__lte=now)[:limit]
    if connections[unanswered.db].features.supports_slicing_ordering_in_compound:
        both = sorted(
            at_risk.union(breached, all=True), key=lambda case: (case.response_due_at, case.pk)
        )
        sections = (
            [case for case in both if case.response_due_at > now],
            [case for case in both if case.response_due_at <= now],
        )
    else:
        sections = (list(at_risk), list(breached))
    # Labels translated once, not per row (get_FOO_display translates every choice each time).
    kinds = {value: str(label) for value, label in Case.Kind.choices}
    severities = {value: str(label) for value, label in Case.Severity.choices}
    for cases in sections:
        for case in cases:
            case.engagement = by_id[case.engagement_id]
            case.kind_label = kinds.get(case.kind, case.kind)
            case.severity_label = severities.get(case.severity, str(case.severity))
    return CaseRisks(at_risk=sections[0], breached=sections[1])
