"""Provider admins must have TOTP, and a session of theirs counts only once it passed it."""

from collections.abc import Callable

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")
# The session passed allauth's TOTP step (or set TOTP up itself): checked once per session.
VERIFIED = "mfa_verified"
# The admin had no TOTP in this session: the TOTP they now set up was set up here.
ENROLLING = "mfa_enrolling"


def passed_mfa(request: HttpRequest, user: object) -> bool:
    """allauth records each step of a sign-in in the session; TOTP or a recovery code is `mfa`."""
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


class RequireAdminMfaMiddleware:
    """Sends a signed-in provider admin without TOTP to the TOTP set-up page, and signs out a
    provider admin with TOTP whose session did not pass it (a session opened by anything but
    allauth's login: its rate limits and TOTP step are the only way in)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (
            user.is_authenticated and user.is_provider_admin and not request.session.get(VERIFIED)
        ):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            if passed_mfa(request, user) or request.session.get(ENROLLING):
                request.session[VERIFIED] = True
                return self.get_response(request)
            logout(request)
            message = _("Sign in with your password and your authenticator code.")
            if api:
                return JsonResponse(
                    {"code": "not_authenticated", "detail": message, "fields": {}}, status=401
                )
            messages.warning(request, message)
            return redirect_to_login(request.get_full_path(), reverse("account_login"))
        request.session[ENROLLING] = True
        if request.path.startswith(ALLOWED_PREFIXES):
            return self.get_response(request)
        message = _("Provider admins must set up two-factor authentication first.")
        if api:
            return JsonResponse(
                {"code": "mfa_required", "detail": message, "fields": {}}, status=403
            )
        messages.warning(request, message)
        return redirect(reverse("mfa_activate_totp"))
