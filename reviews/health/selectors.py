"""Engagement health and overdue action items: reads.

`health_inputs` computes the figures of many engagements in a constant number of queries (one
aggregate per factor, grouped by engagement), whatever their number; the scoring rule is
`scoring.score_health`. Everything reads through the scoped managers: a manager sees the
engagements they serve, an admin all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.casework.models import Case
from engagements.contracts.models import Engagement
from engagements.time.selectors import HoursSummary, hours_summaries
from portal.accounts.models import User
from portal.tenancy.scoping import rows_compiled_once, scope_covers_engagements, unscoped
from reviews.health.scoring import WINDOW_DAYS, Health, HealthInputs, score_health
from reviews.scheduling.models import ActionItem, Occurrence

# A scheduled session counts as overdue once a day has passed since its start without it being
# recorded: the manager records a session after holding it, not during it.
SESSION_GRACE = timedelta(days=1)


def health_engagements(user: User, now: datetime | None = None) -> list[Engagement]:
    """Current engagements whose health the viewer sees: those they serve (admins: all)."""
    now = now or timezone.now()
    queryset = Engagement.objects.all()
    if not user.is_provider_admin:
        queryset = queryset.filter(Q(manager=user) | Q(deputy=user))
    return list(
        queryset.filter(end_date__gte=(now - timedelta(days=1)).date())
        .select_related("organization", "plan")
        .order_by("name", "id")
    )


def _overdue_items_condition(zones: set[str], now: datetime, prefix: str = "") -> Q:
    """Not done and due before today in the engagement's own zone: one clause per zone, so the
    database compares each item with its engagement's date."""
    clauses = [
        Q(
            **{
                f"{prefix}timezone": zone,
                "due_date__lt": now.astimezone(ZoneInfo(zone)).date(),
            }
        )
        for zone in sorted(zones)
    ]
    return Q(done=False) & reduce(or_, clauses, Q(pk__in=[]))


def _count_of(queryset: QuerySet) -> Coalesce:
    """The number of rows of `queryset` (correlated on the outer engagement) as a column."""
    counted = queryset.order_by().annotate(_one=Value(1)).values("_one")
    counted = counted.annotate(n=Func(F("_one"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def health_inputs(
    engagements: Sequence[Engagement],
    now: datetime | None = None,
    hours: dict[int, HoursSummary] | None = None,
) -> dict[int, HealthInputs]:
    """The health figures of each engagement (plan loaded), in two queries for any number (one
    when the caller has read `hours_summaries(engagements)` already: `hours`); the figures'
    statement is `_figures_query`."""
    now = now or timezone.now()
    ids = [engagement.pk for engagement in engagements]
    if not ids:
        return {}
    zones = sorted({engagement.timezone for engagement in engagements})
    # Compiled once (`rows_compiled_once`): the board reads it on every request. The values: the
    # ids, the window's start, now, when a session becomes overdue, and each zone's today.
    values: list[int | datetime | date] = [
        *ids,
        now - timedelta(days=WINDOW_DAYS),
        now,
        now - SESSION_GRACE,
        *(now.astimezone(ZoneInfo(zone)).date() for zone in zones),
    ]
    # A manager's own engagements are named once, not also by the scope (see the helper).
    covered = scope_covers_engagements(ids)
    rows = rows_compiled_once(
        f"health.inputs:{','.join(zones)}:{'covered' if covered else 'scoped'}",
        lambda values: _figures_query(
            values[: len(ids)], *values[len(ids) :], zones=zones, covered=covered
        ),
        values,
    )
    figures = {row["pk"]: row for row in rows}

    if hours is None:
        hours = hours_summaries(engagements)
    return {
        engagement.pk: HealthInputs(
            **{name: figures[engagement.pk][name] for name in _FIGURES},
            average_minutes=hours[engagement.pk].trailing_average_minutes,
            cap_minutes=hours[engagement.pk].cap_minutes,
        )
        for engagement in engagements
    }


def _figures_query(
    ids: Sequence[int],
    since: datetime,
    now: datetime,
    overdue_before: datetime,
    *todays: date,
    zones: Sequence[str],
    covered: bool = False,
) -> QuerySet:
    """health_inputs' statement: each figure a count correlated on the engagement, so each is
    read through an index of that engagement's rows alone (the SLA's `case_engagement_due`, the
    open items' partial `case_open_engagement`, the sessions' `occurrence_calendar`): one list
    of ids, in the outer query, rather than an `engagement_id IN (…)` per table next to the
    scope's own, whose product misled the planner into reading every item of every engagement
    (issue 17). `todays` is each of `zones`' date. `covered`: `scope_covers_engagements(ids)`
    said yes, so the outer query names the ids alone."""
    engagement = OuterRef("pk")
    # Each count is correlated on a row of the outer query, which is read through the scope:
    # it sees no engagement the viewer may not, so the counts need no scope of their own (whose
    # id list, repeated in each, only misled the planner and cost its compiling every time).
    why = "counted per engagement of the scoped outer query (correlated on its id)"
    cases = unscoped(Case, why).filter(engagement_id=engagement)
    # SLA attainment as the review report counts it: objectives due in the window, by now.
    due = cases.filter(response_due_at__gt=since, response_due_at__lte=now)
    met = due.filter(first_response_at__isnull=False, first_response_at__lte=F("response_due_at"))
    open_severe = cases.filter(status__in=Case.OPEN_STATUSES)
    sessions = unscoped(Occurrence, why).filter(engagement_id=engagement, scheduled_start__gt=since)
    action_items = unscoped(ActionItem, why).filter(occurrence__engagement_id=engagement)
    overdue_items = Q(done=False) & reduce(
        or_,
        (
            Q(occurrence__engagement__timezone=zone, due_date__lt=today)
            for zone, today in zip(zones, todays, strict=True)
        ),
        Q(pk__in=[]),
    )
    engagements = (
        unscoped(Engagement, "ids checked by scope_covers_engagements on this very call")
        if covered
        else Engagement.objects.all()
    )
    return (
        engagements.filter(pk__in=ids)
        .annotate(
            items_due=_count_of(due),
            items_met=_count_of(met),
            open_sev0=_count_of(open_severe.filter(severity=0)),
            open_sev1=_count_of(open_severe.filter(severity=1)),
            sessions_missed=_count_of(sessions.filter(status=Occurrence.Status.MISSED)),
            sessions_overdue=_count_of(
                sessions.filter(
                    status=Occurrence.Status.SCHEDULED, scheduled_start__lte=overdue_before
                )
            ),
            action_items_overdue=_count_of(action_items.filter(overdue_items)),
        )
        .values("pk", *_FIGURES)
        .order_by()
    )


_FIGURES = (
    "items_due",
    "items_met",
    "open_sev0",
    "open_sev1",
    "sessions_missed",
    "sessions_overdue",
    "action_items_overdue",
)


def engagement_health(
    engagements: Sequence[Engagement],
    now: datetime | None = None,
    hours: dict[int, HoursSummary] | None = None,
) -> dict[int, Health]:
    """The scored health of each engagement (see `health_inputs`)."""
    return {
        pk: score_health(inputs) for pk, inputs in health_inputs(engagements, now, hours).items()
    }


ORDERINGS = {"due_date": ("due_date", "id"), "-due_date": ("-due_date", "-id")}


def overdue_action_items(
    user: User, now: datetime | None = None, ordering: str = "due_date"
) -> QuerySet[ActionItem]:
    """Open action items past their due date (in their engagement's zone) of the engagements
    the viewer serves (admins: all), oldest due first (or `-due_date`): two queries."""
    now = now or timezone.now()
    engagements = Engagement.objects.all()
    if not user.is_provider_admin:
        engagements = engagements.filter(Q(manager=user) | Q(deputy=user))
    zones = set(engagements.values_list("timezone", flat=True).distinct())
    return (
        ActionItem.objects.filter(occurrence__engagement__in=engagements)
        .filter(_overdue_items_condition(zones, now, prefix="occurrence__engagement__"))
        .select_related("occurrence__engagement__organization", "owner")
        .order_by(*ORDERINGS[ordering])
    )


def days_overdue(item: ActionItem, now: datetime) -> int:
    """Whole days since the due date, in the engagement's zone."""
    today: date = item.occurrence.engagement.local_today(now)
    return (today - item.due_date).days if item.due_date else 0
