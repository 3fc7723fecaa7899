"""Provider admins must have TOTP before they can do anything else."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")


class RequireAdminMfaMiddleware:
    """Sends a signed-in provider admin without TOTP to the TOTP set-up page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_provider_admin
            and not request.path.startswith(ALLOWED_PREFIXES)
            and not request.session.get("mfa_enrolled")
        ):
            if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                request.session["mfa_enrolled"] = True
            else:
                message = _("Provider admins must set up two-factor authentication first.")
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"code": "mfa_required", "detail": message, "fields": {}}, status=403
                    )
                messages.warning(request, message)
                return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
