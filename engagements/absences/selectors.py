"""Absences of service managers and who is responsible meanwhile: reads."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from django.utils import timezone

from engagements.absences.models import Absence
from engagements.contracts.models import Engagement
from portal.accounts.models import User


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
