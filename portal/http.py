"""Request types for views that only signed-in users reach (mypy): `request.user` is a `User`.

Django and DRF type `request.user` as `User | AnonymousUser`. Page views behind `login_required`
annotate `request: AuthenticatedHttpRequest`; API methods (every viewset requires
`IsAuthenticated`) pass `actor(request)` where a `User` is expected, since their signatures must
keep DRF's `Request`. Neither changes anything at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from rest_framework.request import Request

    from portal.accounts.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        user: User

else:
    AuthenticatedHttpRequest = HttpRequest


def actor(request: Request) -> User:
    """The signed-in user of an API request (the permission classes refused anyone else, or the
    caller checked `is_authenticated`)."""
    return cast("User", request.user)
