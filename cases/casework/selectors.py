"""Inquiries and cases, from raising to resolution: reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db.models import Min, Q, QuerySet

from cases.casework import services
from cases.casework.models import Case
from engagements.absences.models import Absence
from engagements.absences.selectors import absences_at, cover_of
from engagements.catalog.models import Plan
from engagements.contracts.models import Engagement
from portal.accounts.models import User


def cap_for(user: User) -> int:
    """The strictest open-items cap of the plans of the engagements the manager serves."""
    cap = Engagement.objects.filter(Q(manager=user) | Q(deputy=user)).aggregate(
        cap=Min("plan__max_open_cases_per_manager")
    )["cap"]
    return cap or DEFAULT_CAP


def manager_loads() -> tuple[Sequence[User], int]:
    """Every active manager with their open assigned items (one aggregate query), and the cap
    (the strictest of the plans)."""
    managers = list(
        User.objects.filter(kind=User.Kind.MANAGER, is_active=True)
        .annotate(open_items=services.open_items_of_assignee())
        .order_by("-open_items", "name", "email")
    )
    cap = Plan.objects.aggregate(cap=Min("max_open_cases_per_manager"))["cap"] or DEFAULT_CAP
    return managers, cap


DEFAULT_CAP = Plan._meta.get_field("max_open_cases_per_manager").default


def cases_in_scope() -> QuerySet[Case]:
    return Case.objects.select_related(
        "engagement__organization", "engagement__plan", "assignee", "raised_by"
    )


@dataclass(frozen=True)
class Cover:
    """Who covers an item while its holder is away, and until when."""

    absence: Absence  # the holder's: `manager_id` is the holder, `ends_at` the end
    user: User  # who covers


def case_covers(cases: Iterable[Case], at: datetime) -> dict[int, Cover]:
    """The cover of each item whose holder (assignee) is away at `at`, by item: the deputy for
    an absent manager, the manager for an absent deputy (see `cover_of`). At most two queries
    whatever the number of items; none when no item is held."""
    held = [case for case in cases if case.assignee_id]
    if not held:
        return {}
    engagements = {
        case.engagement_id: case.engagement for case in held if Case.engagement.is_cached(case)
    }
    missing = {case.engagement_id for case in held} - set(engagements)
    if missing:
        engagements.update(Engagement.objects.select_related("manager", "deputy").in_bulk(missing))
    absent = absences_at(
        {case.assignee_id for case in held}
        | {pk for e in engagements.values() for pk in (e.manager_id, e.deputy_id)},
        at,
    )
    covers: dict[int, Cover] = {}
    for case in held:
        user = cover_of(engagements[case.engagement_id], case.assignee_id, absent)
        if user is not None:
            covers[case.pk] = Cover(absence=absent[cast(int, case.assignee_id)], user=user)
    return covers
