"""Reads about people that depend on who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Q, QuerySet

from portal.accounts.models import ApiToken, User
from portal.tenancy.models import Membership
from portal.tenancy.scoping import scope_for

# Engagements register `organization ids -> ids of the staff serving them` here.
_staff_serving_sources: list[Callable[[Iterable[int]], Iterable[int]]] = []


def register_staff_serving(source: Callable[[Iterable[int]], Iterable[int]]) -> None:
    _staff_serving_sources.append(source)


def users_visible_to(actor: User) -> QuerySet[User]:
    """Admins see everyone; others see themselves and whom they work with.

    Customers: the people of their organizations and the staff serving them. Managers: provider
    staff and the people of the organizations they serve. Call inside the actor's scope.
    """
    if actor.is_provider_admin:
        return User.objects.all()
    organization_ids = scope_for(actor).organization_ids
    visible = Q(pk=actor.pk) | Q(
        pk__in=Membership.objects.filter(
            organization_id__in=organization_ids, is_active=True
        ).values("user_id")
    )
    if actor.is_service_manager:
        visible |= Q(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER])
    for source in _staff_serving_sources:
        visible |= Q(pk__in=list(source(organization_ids)))
    return User.objects.filter(visible)


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
