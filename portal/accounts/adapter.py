"""allauth behaviour for a portal whose accounts are provisioned, never self-registered."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal.accounts.models import User


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """A password sign-in, refused (after the password checked out, so a wrong one still
        reads as any wrong one) for the people of an organization that requires its single
        sign-on. Provider staff are never held to it."""
        from portal.sso.selectors import sso_required_for

        user = super().authenticate(request, **credentials)
        if isinstance(user, User):
            connection = sso_required_for(user)
            if connection is not None:
                raise forms.ValidationError(
                    _(
                        "Your organization signs you in through %(provider)s: use "
                        '"Sign in with %(provider)s" below, not a password.'
                    )
                    % {"provider": connection.name},
                    code="sso_required",
                )
        return user
