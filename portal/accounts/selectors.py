"""Reads about people that depend on who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.accounts.models import ApiToken, User
from portal.tenancy.scoping import scope_for


def users_visible_to(actor: User) -> QuerySet[User]:
    """The people `actor` may see: the rule of their scope (`Scope.filter_users`), whatever
    scope is open when it is called."""
    return scope_for(actor).filter_users(User.objects.all())


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
