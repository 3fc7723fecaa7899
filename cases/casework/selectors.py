"""Inquiries and cases, from raising to resolution: reads."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Min, Q, QuerySet

from cases.casework import services
from cases.casework.models import Case
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
