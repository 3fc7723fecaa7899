"""The staff queue: reads.

Sections, each of open items of the engagements the viewer serves (admins: every engagement):

- new and unassigned: status new, nobody holds it;
- waiting on me: held by the viewer and the provider's turn (not awaiting the customer; a
  customer's reply moves an item back to in progress);
- at risk / breached: unanswered, past 75 % of the response window / past its due time.

An item can sit in more than one section (a new unassigned item can be breached); each row
carries its SLA badge, so the sections say where to look, not what the item is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.casework.models import Case
from cases.sla import Sla, sla_condition
from portal.accounts.models import User
from portal.context_processors import NAV_COUNT_MAX
from portal.tenancy.scoping import count_compiled_once

QUEUE_LIMIT = 50  # rows per section; the case list holds the rest

PROVIDER_TURN = (Case.Status.NEW, Case.Status.RESPONDED, Case.Status.IN_PROGRESS)


@dataclass
class QueueSection:
    key: str
    cases: list[Case]
    more: bool


def served_cases(user: User) -> QuerySet[Case]:
    """Open items of the engagements the user manages or deputizes (admins: all), through the
    scoped manager; the join keeps it one query (no list of engagement ids fetched first)."""
    cases = Case.objects.filter(status__in=Case.OPEN_STATUSES)
    if not user.is_provider_admin:
        cases = cases.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
    return cases


def section_conditions(user: User, now: datetime) -> dict[str, Q]:
    """The sections' conditions; at risk and breached are the SLA's own (`cases.sla`), so a
    row's section and its badge always agree."""
    return {
        "new": Q(status=Case.Status.NEW, assignee__isnull=True),
        "mine": Q(assignee=user, status__in=PROVIDER_TURN),
        "at_risk": sla_condition(Sla.AT_RISK, now),
        "breached": sla_condition(Sla.BREACHED, now),
    }


def queue_sections(user: User, now: datetime, limit: int = QUEUE_LIMIT) -> list[QueueSection]:
    """The four sections, one query each whatever the number of items, the most urgent first
    (severity, then response due time)."""
    base = served_cases(user).select_related("engagement__organization", "assignee")
    sections = []
    for key, condition in section_conditions(user, now).items():
        rows = list(
            base.filter(condition).order_by("severity", "response_due_at", "id")[: limit + 1]
        )
        sections.append(QueueSection(key=key, cases=rows[:limit], more=len(rows) > limit))
    return sections


def queue_count(user: User, now: datetime) -> int:
    """How many items need the viewer: in any section, each counted once, up to one more than
    the navigation's badge shows (`NAV_COUNT_MAX`: an admin's queue spans every engagement).
    One count query, compiled once (`count_compiled_once`): the navigation shows it on every
    staff page."""

    def counted(values: Sequence[Any]) -> QuerySet[Case]:
        anywhere = Q()
        for condition in section_conditions(user, values[0]).values():
            anywhere |= condition
        return served_cases(user).filter(anywhere)

    key = f"queue.count:{user.pk}:{user.is_provider_admin}"
    return count_compiled_once(key, counted, [now], at_most=NAV_COUNT_MAX + 1)


def queue_count_of(user: User) -> int:
    """`queue_count` now: the navigation's badge."""
    return queue_count(user, timezone.now())
