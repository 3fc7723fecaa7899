"""The service manager's weekly board: reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connections
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from cases.casework.models import Case
from engagements.catalog.models import Frequency
from engagements.contracts.models import Engagement
from engagements.time.models import OverageFlag
from engagements.time.selectors import HoursSummary, week_start
from portal.accounts.models import User
from portal.tenancy.scoping import instances_compiled_once, scope_covers_engagements, unscoped
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
    yesterday = timezone.localdate() - timedelta(days=1)

    def build(values: Sequence[Any]) -> QuerySet[Engagement]:
        queryset = Engagement.objects.all()
        if not user.is_provider_admin:
            queryset = queryset.filter(Q(manager=user) | Q(deputy=user))
        return (
            queryset.filter(end_date__gte=values[0])
            .select_related("organization", "plan")  # the board names no manager or deputy
            .annotate(
                open_overage_raised_at=Subquery(
                    OverageFlag.objects.filter(
                        engagement=OuterRef("pk"), cleared_at__isnull=True
                    ).values("raised_at")[:1]
                )
            )
        )

    # Compiled once (`instances_compiled_once`): the board reads it on every request.
    key = f"board.engagements:{user.pk}:{user.is_provider_admin}"
    return instances_compiled_once(key, build, [yesterday])


def case_risks(engagements: list[Engagement], now: datetime, limit: int = BOARD_LIMIT) -> CaseRisks:
    """Open, unanswered items past their 75 % reminder: at risk until due, then breached.

    Each section is limited on its own, so breached items (which sort first) cannot crowd the
    at-risk ones out of a shared limit: one statement of both (`UNION ALL` of two limited
    selects) where the database allows it, else one query per section. Each item gets its
    engagement from `engagements` (already loaded) rather than a join."""
    by_id = {engagement.pk: engagement for engagement in engagements}

    def unanswered(values: Sequence[Any]) -> QuerySet[Case]:
        return (
            Case.objects.filter(
                engagement_id__in=values[:-1],
                status__in=Case.OPEN_STATUSES,
                first_response_at__isnull=True,
                reminder_due_at__lte=values[-1],
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

    def at_risk(values: Sequence[Any]) -> QuerySet[Case]:
        return unanswered(values).filter(response_due_at__gt=values[-1])[:limit]

    def breached(values: Sequence[Any]) -> QuerySet[Case]:
        return unanswered(values).filter(response_due_at__lte=values[-1])[:limit]

    # Compiled once (`instances_compiled_once`): the board reads them on every request.
    values: list[int | datetime | date] = [*by_id, now]
    if connections[Case.objects.db].features.supports_slicing_ordering_in_compound:
        both = sorted(
            instances_compiled_once(
                f"board.case_risks:{limit}",
                lambda values: at_risk(values).union(breached(values), all=True),
                values,
            ),
            key=lambda case: (case.response_due_at, case.pk),
        )
        sections = (
            [case for case in both if case.response_due_at > now],
            [case for case in both if case.response_due_at <= now],
        )
    else:
        sections = (
            instances_compiled_once(f"board.at_risk:{limit}", at_risk, values),
            instances_compiled_once(f"board.breached:{limit}", breached, values),
        )
    # Labels translated once, not per row (get_FOO_display translates every choice each time).
    kinds = {value: str(label) for value, label in Case.Kind.choices}
    severities = {value: str(label) for value, label in Case.Severity.choices}
    for cases in sections:
        for case in cases:
            case.engagement = by_id[case.engagement_id]
            case.kind_label = kinds.get(case.kind, case.kind)
            case.severity_label = severities.get(case.severity, str(case.severity))
    return CaseRisks(at_risk=sections[0], breached=sections[1])


# The columns a board row of a session shows (not its minutes, notes or attendees), and for
# requested sessions who asked and their note.
BOARD_SESSION_FIELDS = (
    "id",
    "engagement_id",
    "deliverable",
    "period",
    "scheduled_start",
    "method",
    "status",
    "request_note",
    "requested_by__name",
    "requested_by__email",
)


@dataclass
class BoardSessions:
    weeks: list[Occurrence]  # every session of the board's weeks, earliest first
    missed: list[Occurrence]  # missed lately, or still not completed from earlier weeks
    requested: list[Occurrence]  # "as needed" sessions asked for, still to come


def board_sessions(
    ids: list[int],
    weeks: list[Week],
    now: datetime,
    missed_days: int,
    limit: int = BOARD_LIMIT,
) -> BoardSessions:
    """The board's three lists of sessions of the engagements `ids`: one statement (`UNION
    ALL` of the three selects, the two lists limited each on its own) where the database
    allows it, else one query per list. A session may be in two lists (a missed one of this
    week): each list gets its own instance."""

    # A manager's own engagements are named once, not also by the scope: each of the three
    # parts planned (and read) slower with two id lists on the same column.
    # (The scoped manager is asked inside the builder, so the kept statement notes what of the
    # scope it read.)
    covered = scope_covers_engagements(ids)

    def parts(values: Sequence[Any]) -> tuple[QuerySet[Occurrence], ...]:
        engagements, (start, end, missed_since, now_) = values[:-4], values[-4:]
        occurrences = (
            unscoped(Occurrence, "engagements checked by scope_covers_engagements on this call")
            if covered
            else Occurrence.objects.all()
        )
        base = (
            occurrences.filter(engagement_id__in=engagements)
            .select_related("requested_by")
            .only(*BOARD_SESSION_FIELDS)
        )
        return (
            base.filter(scheduled_start__gte=start, scheduled_start__lt=end)
            .annotate(board_list=Value(0))
            .order_by("scheduled_start", "id"),
            base.filter(scheduled_start__gte=missed_since)
            .filter(
                Q(status=Occurrence.Status.MISSED)
                | Q(status=Occurrence.Status.SCHEDULED, scheduled_start__lt=start)
            )
            .annotate(board_list=Value(1))
            .order_by("-scheduled_start", "-id")[:limit],
            base.filter(
                status=Occurrence.Status.SCHEDULED,
                period__startswith=f"{Frequency.AS_NEEDED}:",
                scheduled_start__gte=now_,
            )
            .annotate(board_list=Value(2))
            .order_by("scheduled_start", "id")[:limit],
        )

    # Compiled once (`instances_compiled_once`): the board reads them on every request.
    values: list[int | datetime | date] = [
        *ids,
        weeks[0].start,
        weeks[-1].end,
        now - timedelta(days=missed_days),
        now,
    ]
    if not connections[Occurrence.objects.db].features.supports_slicing_ordering_in_compound:
        return BoardSessions(
            *(
                instances_compiled_once(f"board.sessions.{index}:{limit}:{covered}", part, values)
                for index, part in enumerate(
                    (lambda v: parts(v)[0], lambda v: parts(v)[1], lambda v: parts(v)[2])
                )
            )
        )

    def together(values: Sequence[Any]) -> QuerySet[Occurrence]:
        weeks_, missed, requested = parts(values)
        return weeks_.union(missed, requested, all=True)

    lists: tuple[list[Occurrence], ...] = ([], [], [])
    key = f"board.sessions:{limit}:{covered}"
    for occurrence in instances_compiled_once(key, together, values):
        lists[getattr(occurrence, "board_list")].append(occurrence)  # noqa: B009 (an annotation)
    earliest = lambda occurrence: (occurrence.scheduled_start, occurrence.pk)  # noqa: E731
    return BoardSessions(
        weeks=sorted(lists[0], key=earliest),
        missed=sorted(lists[1], key=earliest, reverse=True),
        requested=sorted(lists[2], key=earliest),
    )
