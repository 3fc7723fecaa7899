"""Absences of service managers and who is responsible meanwhile: reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from django.utils import timezone

from engagements.absences.models import Absence
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.tenancy.scoping import rows_compiled_once


def absence_at(user: User | None, at: datetime) -> Absence | None:
    if user is None:
        return None
    return Absence.objects.filter(manager=user, starts_at__lte=at, ends_at__gt=at).first()


def absences_at(user_ids: Iterable[int | None], at: datetime) -> dict[int, Absence]:
    """The absence of each of these people that runs at `at`, by person, in one query (a
    person's absences never overlap)."""
    ids = {pk for pk in user_ids if pk}
    if not ids:
        return {}
    running = Absence.objects.filter(manager_id__in=ids, starts_at__lte=at, ends_at__gt=at)
    return {absence.manager_id: absence for absence in running}


def away_among(user_ids: Iterable[int | None], at: datetime) -> set[int]:
    """Which of these people are away at `at`: the absences' condition of `absences_at`
    without reading the absences, in one statement compiled once per scope
    (`rows_compiled_once`), for the hot path that only asks whether anyone is (issue 17)."""
    ids = sorted({pk for pk in user_ids if pk})
    if not ids:
        return set()
    return {
        row["manager_id"]
        for row in rows_compiled_once(
            "absences.away_among",
            lambda values: (
                Absence.objects.order_by()
                .filter(
                    manager_id__in=values[:-2], starts_at__lte=values[-2], ends_at__gt=values[-1]
                )
                .values("manager_id")
            ),
            [*ids, at, at],
        )
    }


def responsible_manager(engagement: Engagement, at: datetime | None = None) -> User:
    """The manager, or the deputy while the manager is absent (SPEC §4)."""
    at = at or timezone.now()
    if engagement.deputy_id and absence_at(engagement.manager, at) is not None:
        return cast("User", engagement.deputy)  # deputy_id is set
    return engagement.manager


def cover_of(
    engagement: Engagement, person_id: int | None, absent: dict[int, Absence]
) -> User | None:
    """Who covers for a person on the engagement while they are away (`absent`, from
    `absences_at`): the deputy for an absent manager, the manager for an absent deputy; nobody
    when the person is present, serves elsewhere, or the other one is away too or inactive."""
    if person_id is None or person_id not in absent:
        return None
    if person_id == engagement.manager_id:
        other = engagement.deputy
    elif person_id == engagement.deputy_id:
        other = engagement.manager
    else:
        return None
    if other is None or not other.is_active or other.pk in absent:
        return None
    return other


def with_cover(
    engagement: Engagement, people: Iterable[User | None], at: datetime | None = None
) -> list[User]:
    """`people`, each absent one followed by whoever covers for them (SPEC §4: while a manager
    is absent, their deputy receives what the manager would). The absent keep receiving too:
    they read it when back."""
    listed = [person for person in people if person is not None]
    absent = absences_at(
        [person.pk for person in listed] + [engagement.manager_id, engagement.deputy_id],
        at or timezone.now(),
    )
    result: list[User] = []
    for person in listed:
        result.append(person)
        cover = cover_of(engagement, person.pk, absent)
        if cover is not None:
            result.append(cover)
    return result


def absent_during(user: User | None, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether any recorded absence of `user` overlaps `[starts_at, ends_at)` (no user: absent)."""
    if user is None:
        return True
    return Absence.objects.filter(
        manager=user, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists()


def session_host(engagement: Engagement, starts_at: datetime, ends_at: datetime) -> User | None:
    """Who hosts a session in `[starts_at, ends_at)`: the manager, or the deputy when the manager
    is away for any part of it and the deputy is not; None when neither can (SPEC §4)."""
    if not absent_during(engagement.manager, starts_at, ends_at):
        return engagement.manager
    if engagement.deputy_id and not absent_during(engagement.deputy, starts_at, ends_at):
        return cast("User", engagement.deputy)
    return None
