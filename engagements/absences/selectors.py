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
