"""Saved views of the case list: reads."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.savedviews.models import SavedView
from portal.accounts.models import User


def saved_views_of(user: User) -> QuerySet[SavedView]:
    """The user's own views, by name (nobody else's are ever read)."""
    return SavedView.objects.filter(owner=user).order_by("name", "id")
